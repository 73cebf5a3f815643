import Tensor

/// Settings of the coarse stage's regularised evolution (C2FNAS.md, "Coarse search" step 5).
public struct EvolutionConfig: Hashable, Sendable, Codable {
    /// P: members drawn from the cluster at the start (fewer if the cluster is smaller).
    public var populationSize: Int = 20
    /// G: generations; each one produces one child that replaces the oldest member.
    public var generations: Int = 20
    public var tournamentSize: Int = 5
    /// Random mutations tried per generation before falling back to the exhaustive neighbour list.
    public var maxMutationAttempts: Int = 100
    /// Re-draw children that were already scored (they cost nothing, but teach nothing); a scored
    /// child is still used when no unscored one is found.
    public var preferUnscored: Bool = true

    public init(populationSize: Int = 20, generations: Int = 20, tournamentSize: Int = 5,
                maxMutationAttempts: Int = 100, preferUnscored: Bool = true) {
        self.populationSize = populationSize
        self.generations = generations
        self.tournamentSize = tournamentSize
        self.maxMutationAttempts = maxMutationAttempts
        self.preferUnscored = preferUnscored
    }
}

public struct EvolutionError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { "evolution: \(message)" }
}

/// The resumable state of regularised evolution over one cluster. Everything it needs to continue
/// (population with ages, memo of every scored topology, RNG state, generation) is `Codable`, and
/// `step` advances one generation, so the engine can checkpoint and pause between generations; a
/// decoded state continues exactly as the uninterrupted run would.
///
/// Fitness is abstract: `(Topology) throws -> Double`, higher is better (the engine passes the
/// supernet's validation Dice). It is called at most once per topology (memo table).
public struct EvolutionState: Hashable, Sendable, Codable {
    public struct Member: Hashable, Sendable, Codable {
        public var topology: Topology
        public var fitness: Double
        /// Generation the member joined the population (its age).
        public var born: Int
    }

    public private(set) var config: EvolutionConfig
    public private(set) var space: SearchSpace
    public private(set) var settings: NetworkSettings
    /// Op of every cell of a candidate (the coarse stage uses one default op).
    public private(set) var op: CellOp
    public private(set) var memory: MemoryModel
    public private(set) var cluster: Int
    /// The cluster's topologies; children outside it are rejected.
    public private(set) var members: [Topology]
    public private(set) var rng: RNG
    /// Generations completed (0 after the initial population is scored).
    public private(set) var generation: Int
    public private(set) var initialised: Bool
    /// Oldest first; the oldest is replaced by each generation's child.
    public private(set) var population: [Member]
    /// Every scored topology, in scoring order (the memo table's records).
    public private(set) var candidates: [Candidate]

    private var memberSet: Set<Topology>
    private var memo: [Topology: Int]

    enum CodingKeys: String, CodingKey {
        case config, space, settings, op, memory, cluster, members, rng, generation, initialised, population, candidates
    }

    public init(space: SearchSpace, members: [Topology], cluster: Int, settings: NetworkSettings,
                op: CellOp = .coarseDefault, config: EvolutionConfig = EvolutionConfig(),
                memory: MemoryModel = MemoryModel(), seed: UInt64) throws {
        guard !members.isEmpty else { throw EvolutionError(message: "cluster \(cluster) has no members") }
        for t in members {
            do { try space.validate(t) } catch {
                throw EvolutionError(message: "cluster \(cluster) member \(t) is not in the search space: \(error)")
            }
        }
        guard config.populationSize >= 1 else { throw EvolutionError(message: "populationSize must be at least 1") }
        guard config.tournamentSize >= 1 else { throw EvolutionError(message: "tournamentSize must be at least 1") }
        guard config.generations >= 0 else { throw EvolutionError(message: "generations must not be negative") }
        let probe = settings.architecture(name: "candidate", topology: members[0],
                                          ops: Array(repeating: op, count: space.cells), levels: space.levels)
        do { try probe.validate() } catch {
            throw EvolutionError(message: "network settings do not make a valid architecture: \(error)")
        }
        self.config = config
        self.space = space
        self.settings = settings
        self.op = op
        self.memory = memory
        self.cluster = cluster
        self.members = members.sorted()
        self.rng = RNG(seed: seed, stream: UInt64(cluster))
        self.generation = 0
        self.initialised = false
        self.population = []
        self.candidates = []
        self.memberSet = Set(members)
        self.memo = [:]
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        config = try c.decode(EvolutionConfig.self, forKey: .config)
        space = try c.decode(SearchSpace.self, forKey: .space)
        settings = try c.decode(NetworkSettings.self, forKey: .settings)
        op = try c.decode(CellOp.self, forKey: .op)
        memory = try c.decode(MemoryModel.self, forKey: .memory)
        cluster = try c.decode(Int.self, forKey: .cluster)
        members = try c.decode([Topology].self, forKey: .members)
        rng = try c.decode(RNG.self, forKey: .rng)
        generation = try c.decode(Int.self, forKey: .generation)
        initialised = try c.decode(Bool.self, forKey: .initialised)
        population = try c.decode([Member].self, forKey: .population)
        candidates = try c.decode([Candidate].self, forKey: .candidates)
        memberSet = Set(members)
        memo = Dictionary(candidates.enumerated().map { ($1.topology, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(config, forKey: .config)
        try c.encode(space, forKey: .space)
        try c.encode(settings, forKey: .settings)
        try c.encode(op, forKey: .op)
        try c.encode(memory, forKey: .memory)
        try c.encode(cluster, forKey: .cluster)
        try c.encode(members, forKey: .members)
        try c.encode(rng, forKey: .rng)
        try c.encode(generation, forKey: .generation)
        try c.encode(initialised, forKey: .initialised)
        try c.encode(population, forKey: .population)
        try c.encode(candidates, forKey: .candidates)
    }

    public var isFinished: Bool { initialised && generation >= config.generations }

    /// The memoised record of `t`, if it was scored.
    public func candidate(for t: Topology) -> Candidate? { memo[t].map { candidates[$0] } }

    /// The best candidate scored so far (the cluster's finalist when finished).
    public var best: Candidate? { Candidate.best(of: candidates) }

    /// Runs the next unit of work: the initial population (generation 0) if not done yet,
    /// otherwise one generation. Returns the candidates scored during this call.
    ///
    /// If `fitness` throws, the state is left as before the call except that topologies scored
    /// before the failure stay in the memo (so a retry does not score them again and, drawing the
    /// same random numbers, continues exactly as an uninterrupted run).
    @discardableResult
    public mutating func step(fitness: (Topology) throws -> Double) throws -> [Candidate] {
        guard !isFinished else { return [] }
        let before = candidates.count
        var work = self
        do {
            if work.initialised { try work.evolveOneGeneration(fitness) } else { try work.initialise(fitness) }
        } catch {
            candidates = work.candidates
            memo = work.memo
            throw error
        }
        self = work
        return Array(candidates[before...])
    }

    /// Steps until finished.
    public mutating func run(fitness: (Topology) throws -> Double) throws {
        while !isFinished { try step(fitness: fitness) }
    }

    private mutating func score(_ t: Topology, _ fitness: (Topology) throws -> Double) throws -> Double {
        if let i = memo[t] { return candidates[i].fitness }
        let f = try fitness(t)
        guard f.isFinite else { throw EvolutionError(message: "fitness of topology \(t) is \(f); it must be finite") }
        let ops = [CellOp](repeating: op, count: space.cells)
        let arch = settings.architecture(name: "candidate", topology: t, ops: ops, levels: space.levels)
        let cost = try NetworkGraph(arch).cost(memory: memory)
        memo[t] = candidates.count
        candidates.append(Candidate(topology: t, ops: ops, fitness: f, cost: cost, cluster: cluster, generation: generation))
        return f
    }

    private mutating func initialise(_ fitness: (Topology) throws -> Double) throws {
        let picks = rng.sample(config.populationSize, from: members.count)
        for i in picks {
            let t = members[i]
            population.append(Member(topology: t, fitness: try score(t, fitness), born: 0))
        }
        initialised = true
    }

    private mutating func evolveOneGeneration(_ fitness: (Topology) throws -> Double) throws {
        generation += 1
        let contenders = rng.sample(config.tournamentSize, from: population.count).map { population[$0] }
        let parent = contenders.dropFirst().reduce(contenders[0]) { best, m in
            guard let a = candidate(for: m.topology), let b = candidate(for: best.topology) else { return best }
            return a.isBetter(than: b) ? m : best
        }
        let child = drawChild(of: parent.topology)
        population.append(Member(topology: child, fitness: try score(child, fitness), born: generation))
        population.removeFirst()
    }

    /// A mutated child of `parent` inside the cluster, preferring unscored ones; the parent itself
    /// only when it has no neighbour in the cluster at all.
    private mutating func drawChild(of parent: Topology) -> Topology {
        var scoredFallback: Topology?
        for _ in 0..<max(1, config.maxMutationAttempts) {
            guard let c = space.proposeMutation(of: parent, using: &rng) else { break }
            guard c != parent, memberSet.contains(c), space.contains(c) else { continue }
            if !config.preferUnscored || memo[c] == nil { return c }
            if scoredFallback == nil { scoredFallback = c }
        }
        let near = space.neighbours(of: parent).filter { memberSet.contains($0) }
        if config.preferUnscored, let fresh = rng.element(of: near.filter({ memo[$0] == nil })) { return fresh }
        return scoredFallback ?? rng.element(of: near) ?? parent
    }
}

extension EvolutionState {
    /// The evolution of cluster `cluster` of a clustering.
    public init(space: SearchSpace, clustering: Clustering, cluster: Int, settings: NetworkSettings,
                op: CellOp = .coarseDefault, config: EvolutionConfig = EvolutionConfig(),
                memory: MemoryModel = MemoryModel(), seed: UInt64) throws {
        guard clustering.members.indices.contains(cluster) else {
            throw EvolutionError(message: "cluster \(cluster) does not exist (there are \(clustering.k))")
        }
        try self.init(space: space, members: clustering.members[cluster], cluster: cluster, settings: settings,
                      op: op, config: config, memory: memory, seed: seed)
    }
}
