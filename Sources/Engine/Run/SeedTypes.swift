import Volume
typealias SplitMixSource = SplitMix64
