import Foundation

extension Kubeconfig {
    /// Resolves one context into a `ClientConfiguration`.
    ///
    /// - Parameters:
    ///   - context: overrides `current-context`.
    ///   - environment: the environment exec plugins inherit.
    ///   - execTimeout: how long an exec plugin may run before it is killed.
    public func clientConfiguration(
        context override: String? = nil,
        environment: ConfigEnvironment = .current,
        execTimeout: Duration = .seconds(60)
    ) throws(KubeconfigError) -> ClientConfiguration {
        guard let contextName = override ?? currentContext else {
            throw .noCurrentContext(path: filesDescription)
        }
        guard let context = contexts[contextName] else {
            throw .contextNotFound(name: contextName, path: filesDescription)
        }
        guard let cluster = clusters[context.cluster] else {
            throw .clusterNotFound(name: context.cluster, context: contextName, path: context.location.file)
        }
        let cfile = cluster.location.file
        let cfield = cluster.location.field
        guard let serverText = cluster.server else { throw .missingServer(path: cfile, field: "\(cfield).server") }
        let server = try Self.url(serverText, defaultScheme: "https", schemes: ["https", "http"],
                                  path: cfile, field: "\(cfield).server")
        let proxy = try cluster.proxyURL.map { (text) throws(KubeconfigError) in
            try Self.url(text, defaultScheme: nil, schemes: ["http", "https", "socks5"], path: cfile, field: "\(cfield).proxy-url")
        }
        let caPEM = try Self.pem(data: cluster.certificateAuthorityData, file: cluster.certificateAuthority,
                                 location: cluster.location, name: "certificate-authority")

        var result = ClientConfiguration(
            server: server,
            namespace: context.namespace ?? "default",
            certificateAuthorityPEM: caPEM,
            insecureSkipTLSVerify: cluster.insecureSkipTLSVerify,
            tlsServerName: cluster.tlsServerName,
            proxyURL: proxy,
            source: "context \"\(contextName)\" in \(context.location.file)"
        )
        guard let userName = context.user else { return result }
        guard let user = users[userName] else {
            throw .userNotFound(name: userName, context: contextName, path: context.location.file)
        }
        let ufile = user.location.file
        let ufield = user.location.field
        result.clientCertificatePEM = try Self.pem(data: user.clientCertificateData, file: user.clientCertificate,
                                                   location: user.location, name: "client-certificate")
        result.clientKeyPEM = try Self.pem(data: user.clientKeyData, file: user.clientKey,
                                           location: user.location, name: "client-key")
        if (result.clientCertificatePEM == nil) != (result.clientKeyPEM == nil) {
            let (present, missing) = result.clientKeyPEM == nil ? ("client-certificate", "client-key") : ("client-key", "client-certificate")
            throw .wrongShape(path: ufile, field: "\(ufield).\(missing)", problem: "\(present) is set but \(missing) is not")
        }

        var methods: [String] = []
        if user.token != nil || user.tokenFile != nil { methods.append("token") }
        if user.username != nil || user.password != nil { methods.append("basic") }
        if user.exec != nil { methods.append("exec") }
        if methods.count > 1 {
            throw .conflictingAuthentication(path: ufile, field: ufield, methods: methods)
        }
        if let token = user.token {
            result.authentication = .bearerToken(token)  // a static token wins over tokenFile, as in client-go
        } else if let tokenFile = user.tokenFile {
            guard FileManager.default.isReadableFile(atPath: tokenFile) else {
                throw .referencedFileMissing(path: ufile, field: "\(ufield).tokenFile", file: tokenFile)
            }
            result.authentication = .tokenFile(TokenFileSource(path: tokenFile))
        } else if user.username != nil || user.password != nil {
            guard let username = user.username else {
                throw .wrongShape(path: ufile, field: "\(ufield).username", problem: "password is set but username is not")
            }
            result.authentication = .basic(username: username, password: user.password ?? "")
        } else if let exec = user.exec {
            let info = ExecClusterInfo(
                server: serverText, tlsServerName: cluster.tlsServerName,
                insecureSkipTLSVerify: cluster.insecureSkipTLSVerify, certificateAuthorityPEM: caPEM,
                proxyURL: cluster.proxyURL, config: cluster.execExtension)
            result.authentication = .exec(ExecCredentialProvider(
                config: exec, clusterInfo: info, environment: environment.variables, timeout: execTimeout))
        }
        return result
    }

    /// `-data` (base64) wins over the file form when both are set, as in client-go.
    static func pem(data: String?, file: String?, location: KubeconfigLocation, name: String) throws(KubeconfigError) -> String? {
        if let data {
            let compact = data.filter { !$0.isWhitespace }
            guard let decoded = Data(base64Encoded: compact), let text = String(data: decoded, encoding: .utf8) else {
                throw .invalidBase64(path: location.file, field: "\(location.field).\(name)-data")
            }
            return text
        }
        if let file {
            guard let contents = FileManager.default.contents(atPath: file),
                  let text = String(data: contents, encoding: .utf8) else {
                throw .referencedFileMissing(path: location.file, field: "\(location.field).\(name)", file: file)
            }
            return text
        }
        return nil
    }

    static func url(_ text: String, defaultScheme: String?, schemes: Set<String>, path: String, field: String) throws(KubeconfigError) -> URL {
        var candidate = text
        if let defaultScheme, !text.contains("://") { candidate = "\(defaultScheme)://\(text)" }
        guard let url = URL(string: candidate), let scheme = url.scheme?.lowercased(), schemes.contains(scheme),
              let host = url.host, !host.isEmpty else {
            throw .invalidURL(path: path, field: field, value: text)
        }
        return url
    }
}
