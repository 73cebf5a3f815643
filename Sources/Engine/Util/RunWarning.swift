/// Problems a run survives but reports (as warning events): each says what happened and what
/// the engine did about it. Listed in docs/TROUBLESHOOTING.md through `ErrorCatalogue`.
public enum RunWarning: Sendable, Equatable, CustomStringConvertible {
    case allBackgroundCase(caseID: String, path: String)
    case patchShrunk(requested: [Int], used: [Int], medianShape: [Int])
    case nonFiniteLoss(step: Int, learningRate: Float)
    case nonFiniteWeights(tensor: String)
    case fitnessBelowNoise(cluster: Int, spread: Double, noise: Double, steps: Int)
    case weakRankingAudit(tau: Double, topologies: Int)

    public var description: String {
        switch self {
        case let .allBackgroundCase(id, path):
            return "case \(id): \(path) has no foreground voxel; the case is kept (it teaches the network what background looks like) but scores Dice 1 for any empty prediction."
        case let .patchShrunk(requested, used, median):
            return "patch (d, h, w) \(requested) is larger than the median case after resampling (\(median)); using \(used). Smaller cases are padded. Set --set patch=… to choose it yourself."
        case let .nonFiniteLoss(step, lr):
            return "non-finite loss at step \(step): update skipped, learning rate lowered to \(lr)"
        case let .nonFiniteWeights(name):
            return "not checkpointing: \(name) holds non-finite values; keeping the previous checkpoint"
        case let .fitnessBelowNoise(cluster, spread, noise, steps):
            return String(format: "cluster %d: the fitness spread of its topologies (%.4f) is within the noise of one score (%.4f) after %d supernet steps; its finalist is chosen on a ranking that is not evidence. Give the supernets more steps (--set supernetSteps=… or a larger --budget) or use fewer, larger clusters.", cluster, spread, noise, steps)
        case let .weakRankingAudit(tau, n):
            return String(format: "ranking audit: Kendall τ %.2f over %d topologies; the supernets' fitness barely predicts stand-alone training. Treat the coarse choice as a guess: more supernet steps or finalistSelection=train help.", tau, n)
        }
    }

    public enum Kind: String, CaseIterable, Sendable {
        case allBackgroundCase = "all-background-case", patchShrunk = "patch-shrunk"
        case nonFiniteLoss = "non-finite-loss", nonFiniteWeights = "non-finite-weights"
        case fitnessBelowNoise = "fitness-below-noise", weakRankingAudit = "weak-ranking-audit"
    }

    public var kind: Kind {
        switch self {
        case .allBackgroundCase: .allBackgroundCase
        case .patchShrunk: .patchShrunk
        case .nonFiniteLoss: .nonFiniteLoss
        case .nonFiniteWeights: .nonFiniteWeights
        case .fitnessBelowNoise: .fitnessBelowNoise
        case .weakRankingAudit: .weakRankingAudit
        }
    }

    public static func example(_ kind: Kind) -> (warning: RunWarning, cause: String) {
        switch kind {
        case .allBackgroundCase:
            return (.allBackgroundCase(caseID: "liver_7", path: "/data/Task03_Liver/labelsTr/liver_7.nii.gz"),
                    "a training label map without foreground (a healthy subject, or an empty mask exported by mistake).")
        case .patchShrunk:
            return (.patchShrunk(requested: [96, 96, 96], used: [32, 96, 96], medianShape: [27, 160, 152]),
                    "the preset's patch is larger than the cases; the plan shrinks it to the median case, rounded up to a multiple of 2^levels.")
        case .nonFiniteLoss:
            return (.nonFiniteLoss(step: 1200, learningRate: 0.005),
                    "a learning rate too large for the data, or an extreme batch; five in a row stop the run (engine.diverged).")
        case .nonFiniteWeights:
            return (.nonFiniteWeights(tensor: "weights.cell3.conv.weight"),
                    "the weights became NaN or infinite; the run never writes such a checkpoint.")
        case .fitnessBelowNoise:
            return (.fitnessBelowNoise(cluster: 2, spread: 0.004, noise: 0.011, steps: 600),
                    "the cluster's supernet is undertrained for the data, so all its topologies score alike; the noise guard trained it longer (noiseGuardRounds) and then warned instead of choosing silently by multiply-adds.")
        case .weakRankingAudit:
            return (.weakRankingAudit(tau: 0.07, topologies: 8),
                    "weight sharing at this budget does not rank topologies as training them from scratch does (the audit trains a sample stand-alone).")
        }
    }
}
