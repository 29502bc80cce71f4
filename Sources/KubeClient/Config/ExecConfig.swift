/// The `exec` section of a kubeconfig user: how to run a
/// `client.authentication.k8s.io` credential plugin.
public struct ExecConfig: Sendable, Equatable {
    public enum APIVersion: String, Sendable, CaseIterable {
        case v1 = "client.authentication.k8s.io/v1"
        case v1beta1 = "client.authentication.k8s.io/v1beta1"
    }

    public enum InteractiveMode: String, Sendable {
        case never = "Never"
        case ifAvailable = "IfAvailable"
        case always = "Always"
    }

    public var apiVersion: APIVersion
    public var command: String
    public var args: [String]
    /// Added to (and overriding) the environment the plugin inherits, in order.
    public var env: [(name: String, value: String)]
    public var interactiveMode: InteractiveMode
    public var provideClusterInfo: Bool
    public var installHint: String?

    public init(
        apiVersion: APIVersion, command: String, args: [String] = [], env: [(name: String, value: String)] = [],
        interactiveMode: InteractiveMode = .never, provideClusterInfo: Bool = false, installHint: String? = nil
    ) {
        self.apiVersion = apiVersion
        self.command = command
        self.args = args
        self.env = env
        self.interactiveMode = interactiveMode
        self.provideClusterInfo = provideClusterInfo
        self.installHint = installHint
    }

    public static func == (lhs: ExecConfig, rhs: ExecConfig) -> Bool {
        lhs.apiVersion == rhs.apiVersion && lhs.command == rhs.command && lhs.args == rhs.args
            && lhs.env.map(\.name) == rhs.env.map(\.name) && lhs.env.map(\.value) == rhs.env.map(\.value)
            && lhs.interactiveMode == rhs.interactiveMode && lhs.provideClusterInfo == rhs.provideClusterInfo
            && lhs.installHint == rhs.installHint
    }
}
