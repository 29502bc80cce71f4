import XCTest
@testable import PlugboardPlugin
@testable import checksum_annotator

final class SHA256Tests: XCTestCase {
    func testKnownVectors() {
        // FIPS 180-4 examples and the empty message.
        XCTAssertEqual(SHA256.hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(SHA256.hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
                       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        XCTAssertEqual(SHA256.hex("The quick brown fox jumps over the lazy dog"),
                       "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592")
    }

    func testMillionAsInPieces() {
        var hasher = SHA256()
        let piece = [UInt8](repeating: UInt8(ascii: "a"), count: 999)  // not a multiple of 64: exercises the pending block
        var left = 1_000_000
        while left > 0 {
            let count = min(left, piece.count)
            hasher.update(Array(piece[0..<count]))
            left -= count
        }
        XCTAssertEqual(SHA256.hexString(hasher.finalize()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testPaddingBoundaries() {
        // Lengths around one block: the 0x80 marker and the length land in one or two blocks.
        // Expected values from Python's hashlib.sha256(b"a" * N).
        let expected: [Int: String] = [
            55: "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            56: "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            63: "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
            64: "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
            65: "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0",
        ]
        for (length, hex) in expected {
            XCTAssertEqual(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: length)), hex, "length \(length)")
        }
    }

    func testCanonicalContent() throws {
        let configMap: JSONObject = ["data": ["b": "2", "a": "1"], "binaryData": ["c": "AAE="]]
        XCTAssertEqual(String(decoding: try ChecksumAnnotator.canonicalContent(configMap), as: UTF8.self), "a=1\nb=2\nc=AAE=\n")
        XCTAssertEqual(try ChecksumAnnotator.canonicalContent(["metadata": ["name": "x"]]), [])
    }

    func testReconcile() throws {
        let object: JSONObject = ["apiVersion": "v1", "kind": "ConfigMap",
                                  "metadata": ["name": "cm", "namespace": "ns", "labels": ["plugboard.dev/checksum": "true"]],
                                  "data": ["a": "1"]]
        let request = ReconcileRequest(key: ReconcileKey(namespace: "ns", name: "cm"), object: object)
        let response = try ChecksumAnnotator.reconcile(request)
        XCTAssertEqual(response.actions.count, 2)
        XCTAssertEqual(response.actions[0]["type"] as? String, "patch")
        XCTAssertEqual(response.actions[1]["reason"] as? String, "ChecksumUpdated")
        XCTAssertTrue(try ChecksumAnnotator.reconcile(ReconcileRequest(key: request.key, object: nil)).actions.isEmpty)
    }
}
