import Testing
import Foundation
@testable import Scheduler
@testable import Engine

@Suite("Slurm plumbing")
struct SlurmParsingTests {
    @Test("squeue lines parse into jobs and array tasks")
    func parseQueue() {
        let text = "12_0|RUNNING|node1|None\n12_2|PENDING||Resources\n13|PENDING||Dependency\n"
        let q = Slurm.parseQueue(text)
        #expect(q.count == 3)
        #expect(q[0].job == "12" && q[0].arrayTask == 0 && q[0].node == "node1")
        #expect(q[1].arrayTask == 2 && q[1].reason == "Resources")
        #expect(q[2].job == "13" && q[2].arrayTask == nil)
    }

    @Test("job scripts run the cluster named by the array index and quote paths")
    func scripts() {
        let run = RunDirectory(url: URL(fileURLWithPath: "/scratch/my runs/r1"))
        let task = ClusterTask(binary: URL(fileURLWithPath: "/opt/c2fnas/bin/c2fnas"), dataset: URL(fileURLWithPath: "/data/Task09"), run: run)
        let s = SlurmSubmitter(task: task, threads: 4, partition: "cpu")
        #expect(s.clusterOptions.contains("--cpus-per-task=4"))
        #expect(s.clusterScript.contains("exec /opt/c2fnas/bin/c2fnas search /data/Task09 --run '/scratch/my runs/r1' --stage coarse --cluster \"${SLURM_ARRAY_TASK_ID}\""))
        #expect(s.clusterOptions.contains("--output=/scratch/my runs/r1/logs/cluster-%a.log"))
        #expect(s.finishScript.contains("--stage finish"))
    }
}
