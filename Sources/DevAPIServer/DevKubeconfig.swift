import Foundation

/// A kubeconfig for the dev server, in the form kubectl and client libraries read.
public enum DevKubeconfig {
    public static func render(server: String, caPEM: String?, token: String?, clientCertificatePEM: String? = nil,
                              clientKeyPEM: String? = nil, contextName: String = "plugboard-dev") -> String
    {
        func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        var cluster = "    server: \(quoted(server))\n"
        if let caPEM { cluster += "    certificate-authority-data: \(Data(caPEM.utf8).base64EncodedString())\n" }
        var user = ""
        if let token { user += "    token: \(quoted(token))\n" }
        if let clientCertificatePEM, let clientKeyPEM {
            user += "    client-certificate-data: \(Data(clientCertificatePEM.utf8).base64EncodedString())\n"
            user += "    client-key-data: \(Data(clientKeyPEM.utf8).base64EncodedString())\n"
        }
        if user.isEmpty { user = "    {}\n" }
        return """
            apiVersion: v1
            kind: Config
            clusters:
            - name: \(contextName)
              cluster:
            \(cluster.indented(2))users:
            - name: \(contextName)-admin
              user:
            \(user.indented(2))contexts:
            - name: \(contextName)
              context:
                cluster: \(contextName)
                user: \(contextName)-admin
                namespace: default
            current-context: \(contextName)

            """
    }

    /// Writes the file readable by its owner only: it holds a credential.
    public static func write(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }

    /// A random bearer token.
    public static func makeToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}

private extension String {
    func indented(_ spaces: Int) -> String {
        let pad = String(repeating: " ", count: spaces)
        return split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : pad + $0 }.joined(separator: "\n")
    }
}
