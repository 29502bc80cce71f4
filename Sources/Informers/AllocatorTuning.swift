import CMallocTuning

/// glibc malloc settings for a process that fills an informer cache, applied once, first thing in
/// `main`, before any other thread allocates.
///
/// glibc gives each thread that allocates concurrently an arena of its own, in heaps of up to
/// 64 MiB that are reserved inaccessible and opened for use as they fill: one `mprotect` call for
/// each page or so that the heap grows by. Filling a cache of 100,000 objects of ~1 KB from decoding
/// threads made about 30,000 of those calls, each changing the process's memory map, which was
/// about a tenth of the sync's CPU (measured; `docs/benchmarks.md`). With a top pad as large as a
/// heap, glibc opens a new heap whole at once; memory is still only made resident when it is first
/// written, so the resident size does not change.
///
/// What it costs: glibc keeps up to the pad free at the top of each heap instead of giving it back,
/// so memory freed by a shrinking cache stays with the process for reuse. Setting the pad turns off
/// glibc's adaptive mmap threshold, so the threshold is set too, to `mmapThreshold`: blocks as large
/// as a page of a paginated LIST come from the heaps and are reused, larger ones are mapped on
/// their own and returned when freed.
///
/// A malloc setting given in the environment (`GLIBC_TUNABLES` with a `glibc.malloc.` tunable, or
/// glibc's `MALLOC_…_` variables) wins: nothing is changed then. Other C libraries are left alone.
public enum AllocatorTuning {
    /// `M_TOP_PAD`: the size of a glibc heap (`HEAP_MAX_SIZE`, 64 MiB on 64-bit systems).
    public static let topPad = 64 << 20
    /// `M_MMAP_THRESHOLD`: blocks of at least this many bytes are mapped on their own.
    public static let mmapThreshold = 4 << 20

    public enum Outcome: Equatable, Sendable, CustomStringConvertible {
        /// The top pad and mmap threshold are set.
        case applied
        /// The environment variable named sets malloc's behaviour; it is kept.
        case keptEnvironment(variable: String)
        /// The C library is not glibc, or refused the values: nothing was changed.
        case unsupported

        public var description: String {
            switch self {
            case .applied: "applied (top pad \(AllocatorTuning.topPad >> 20) MiB, mmap threshold \(AllocatorTuning.mmapThreshold >> 20) MiB)"
            case .keptEnvironment(let variable): "kept the malloc settings of \(variable)"
            case .unsupported: "none (not glibc, or glibc refused the values)"
            }
        }
    }

    /// The bytes glibc's arenas have taken from the system, without the blocks mapped on their own
    /// (`mallinfo2().arena`); 0 with another C library.
    public static var arenaBytes: Int { Int(plugboard_malloc_arena_bytes()) }

    /// The environment variable that sets glibc malloc's behaviour, if any: `GLIBC_TUNABLES` with a
    /// `glibc.malloc.` tunable, or one of glibc's `MALLOC_…_` variables.
    public static func mallocSetting(in environment: [String: String]) -> String? {
        if let tunables = environment["GLIBC_TUNABLES"],
           tunables.split(separator: ":").contains(where: { $0.hasPrefix("glibc.malloc.") }) {
            return "GLIBC_TUNABLES"
        }
        let variables = ["MALLOC_TOP_PAD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_MAX_",
                         "MALLOC_ARENA_MAX", "MALLOC_ARENA_TEST"]
        return variables.first { environment[$0] != nil }
    }

    /// Applies the settings unless `environment` sets malloc's behaviour. Call it before the process
    /// starts threads; later calls have a partial effect (heaps that exist keep growing page by page).
    @discardableResult
    public static func apply(environment: [String: String]) -> Outcome {
        if let variable = mallocSetting(in: environment) { return .keptEnvironment(variable: variable) }
        return plugboard_malloc_set_top_pad_and_mmap_threshold(topPad, mmapThreshold) == 1 ? .applied : .unsupported
    }
}
