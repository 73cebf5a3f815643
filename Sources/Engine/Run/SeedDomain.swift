import Tensor

/// The one way a run derives its random streams from `config.seed`: every consumer names its
/// domain and its coordinates (cluster, step ...), and gets stream `RNG(seed:stream:)` of the run
/// seed. No consumer XORs its own constant into the seed, so streams cannot collide by accident
/// and a resumed step draws exactly what the uninterrupted step drew.
enum SeedDomain: UInt64, CaseIterable {
    /// Supernet weights of cluster `a`.
    case supernetInit = 1
    /// Member and patches of supernet step `b` of cluster `a`.
    case supernetBatch
    /// Tournament and mutation draws of the evolution (one stream per cluster, inside EvolutionState).
    case evolution
    /// Weights and α of the fine stage's mixed-op network.
    case fineInit
    /// Patches of fine step `a`.
    case fineBatch
    /// Weights of the network trained from scratch.
    case finalInit
    /// Patches of final step `a`.
    case finalBatch
    /// The fine stage's 50/50 split of the training cases into weight and α halves.
    case fineSplit
    /// The train/validation split of the dataset.
    case dataSplit
    /// The k-medoids initialisation of the coarse stage.
    case clustering
    /// The fixed validation patches every topology is scored on.
    case fitness
    /// The order in which a supernet's members are trained (one permutation per pass `b` of cluster `a`).
    case supernetOrder
    /// Stand-alone training (finalists and audit): initialisation, and the patches of step `a`.
    case standAloneInit, standAloneBatch
    /// Throwaway networks that measure step times (never touch the run's results).
    case calibration
    /// Resamples of the paired bootstrap interval.
    case bootstrap

    /// The generator for one unit of work, fully determined by the run seed and its coordinates.
    func rng(_ seed: UInt64, _ a: Int = 0, _ b: Int = 0) -> RNG {
        var h = rawValue &* 0xD6E8_FEB8_6659_FD93
        h ^= UInt64(truncatingIfNeeded: a) &* 0xA076_1D64_78BD_642F
        h ^= UInt64(truncatingIfNeeded: b) &* 0xE703_7ED1_A0B4_28DB
        return RNG(seed: seed, stream: h)
    }

    /// A seed for a consumer that builds its own generator (parameter stores, clustering, evolution):
    /// the first draw of this domain's stream.
    func seed(_ seed: UInt64, _ a: Int = 0, _ b: Int = 0) -> UInt64 {
        var g = rng(seed, a, b)
        return g.next()
    }
}
