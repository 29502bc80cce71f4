// checksum-annotator: a Plugboard plugin that stamps each labelled ConfigMap
// with a SHA-256 of its content (see README.md next to this file).
import Foundation
import PlugboardPlugin

do {
    try PluginServer(name: "checksum-annotator").run(ChecksumAnnotator.reconcile)
} catch {
    FileHandle.standardError.write(Data("checksum-annotator: \(error)\n".utf8))
    exit(1)
}
