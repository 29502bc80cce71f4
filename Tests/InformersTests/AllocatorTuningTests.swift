import Testing

@testable import Informers

#if canImport(Glibc)
import Glibc
#endif

@Suite struct AllocatorTuningTests {
    @Test func environmentMallocSettingsWin() {
        #expect(AllocatorTuning.mallocSetting(in: [:]) == nil)
        #expect(AllocatorTuning.mallocSetting(in: ["PATH": "/bin", "GLIBC_TUNABLES": "glibc.pthread.rseq=0"]) == nil)
        #expect(AllocatorTuning.mallocSetting(in: ["GLIBC_TUNABLES": "glibc.pthread.rseq=0:glibc.malloc.arena_max=2"]) == "GLIBC_TUNABLES")
        #expect(AllocatorTuning.mallocSetting(in: ["GLIBC_TUNABLES": "glibc.malloc.top_pad=131072"]) == "GLIBC_TUNABLES")
        #expect(AllocatorTuning.mallocSetting(in: ["MALLOC_ARENA_MAX": "1"]) == "MALLOC_ARENA_MAX")
        #expect(AllocatorTuning.mallocSetting(in: ["MALLOC_TOP_PAD_": "0"]) == "MALLOC_TOP_PAD_")
        #expect(AllocatorTuning.apply(environment: ["MALLOC_MMAP_THRESHOLD_": "65536"]) == .keptEnvironment(variable: "MALLOC_MMAP_THRESHOLD_"))
    }

    #if canImport(Glibc)
    /// Allocates 80 MiB in blocks of 1 KiB on one thread and exits with success when glibc took at
    /// least 16 MiB more from the system than that: with the top pad, a heap is taken whole (64 MiB)
    /// when it is opened; without it, a heap grows by the pages it needs.
    static func exitWithSuccessIfHeapsAreTakenWhole() -> Never {
        let before = AllocatorTuning.arenaBytes
        var blocks: [UnsafeMutableRawPointer] = []
        blocks.reserveCapacity(80 << 10)
        for _ in 0..<(80 << 10) {
            guard let block = malloc(1024) else { exit(2) }
            blocks.append(block)
        }
        let slack = AllocatorTuning.arenaBytes - before - (80 << 20)
        exit(slack >= 16 << 20 ? 0 : 1)
    }

    @Test func glibcHeapsAreOpenedWholeOnceApplied() async {
        await #expect(processExitsWith: .success) {
            guard AllocatorTuning.apply(environment: [:]) == .applied else { exit(3) }
            AllocatorTuningTests.exitWithSuccessIfHeapsAreTakenWhole()
        }
    }

    /// The same measure without the tuning: it must be able to fail.
    @Test func glibcHeapsGrowByPagesWithoutIt() async {
        await #expect(processExitsWith: .exitCode(1)) {
            AllocatorTuningTests.exitWithSuccessIfHeapsAreTakenWhole()
        }
    }
    #endif
}
