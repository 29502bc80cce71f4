/// A label selector: requirements that must all hold for a set of labels.
///
/// Built from the query-string form (`app=web,tier in (a,b),!canary`, see
/// `init(parsing:)`) or from the API form (`matchLabels`/`matchExpressions`,
/// see `init(json:)`). Requirements are kept sorted by key, as apimachinery
/// keeps them, so `description` renders a canonical string.
/// The empty selector matches everything; `LabelSelector.nothing` matches nothing.
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    /// apimachinery's `selection.Operator`; raw values are its strings.
    public enum Operator: String, Sendable, Hashable {
        case `in` = "in", notIn = "notin"
        case equals = "=", doubleEquals = "==", notEquals = "!="
        case exists = "exists", doesNotExist = "!"
        case greaterThan = "gt", lessThan = "lt"
    }

    public struct Requirement: Sendable, Hashable, CustomStringConvertible {
        public let key: String
        public let op: Operator
        /// The values as given; the string form prints them sorted.
        public let values: [String]

        /// Builds a requirement with apimachinery's `NewRequirement` checks:
        /// a qualified-name key, value counts fitting the operator, valid label values.
        /// `path` prefixes the field names in messages (`matchExpressions[0]`).
        public init(key: String, op: Operator, values: [String], path: String? = nil) throws(ParseError) {
            var problems: [String] = []
            func child(_ name: String) -> String { path.map { $0 + "." + name } ?? name }
            let keyProblems = NameValidation.qualifiedNameProblems(key)
            if !keyProblems.isEmpty {
                problems.append(FieldCause.invalid(child("key"), .string(key), keyProblems.joined(separator: "; ")).description)
            }
            let shownValues: JSON = values.isEmpty ? .null : .array(values.map(JSON.string))
            switch op {
            case .in, .notIn:
                if values.isEmpty {
                    problems.append(FieldCause.invalid(child("values"), shownValues, "for 'in', 'notin' operators, values set can't be empty").description)
                }
            case .equals, .doubleEquals, .notEquals:
                if values.count != 1 {
                    problems.append(FieldCause.invalid(child("values"), shownValues, "exact-match compatibility requires one single value").description)
                }
            case .exists, .doesNotExist:
                if !values.isEmpty {
                    problems.append(FieldCause.invalid(child("values"), shownValues, "values set must be empty for exists and does not exist").description)
                }
            case .greaterThan, .lessThan:
                if values.count != 1 {
                    problems.append(FieldCause.invalid(child("values"), shownValues, "for 'Gt', 'Lt' operators, exactly one value is required").description)
                }
                for (i, value) in values.enumerated() where Int64(value) == nil {
                    problems.append(FieldCause.invalid(child("values") + "[\(i)]", .string(value), "for 'Gt', 'Lt' operators, the value must be an integer").description)
                }
            }
            for (i, value) in values.enumerated() {
                let valueProblems = NameValidation.labelValueProblems(value)
                if !valueProblems.isEmpty {
                    problems.append(FieldCause.invalid(child("values") + "[\(i)][\(key)]", .string(value), valueProblems.joined(separator: "; ")).description)
                }
            }
            if !problems.isEmpty { throw ParseError(aggregating: problems) }
            self.key = key
            self.op = op
            self.values = values
        }

        /// Whether `labels` satisfy this requirement. A missing key satisfies
        /// only `!=`, `notin` and `!`.
        public func matches(_ labels: [String: String]) -> Bool {
            let value = labels[key]
            switch op {
            case .in, .equals, .doubleEquals: return value.map(values.contains) ?? false
            case .notIn, .notEquals: return value.map { !values.contains($0) } ?? true
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            case .greaterThan, .lessThan:
                guard let value, let actual = Int64(value), values.count == 1, let bound = Int64(values[0]) else { return false }
                return op == .greaterThan ? actual > bound : actual < bound
            }
        }

        public var description: String {
            let sortedValues = values.count == 1 ? values[0] : values.sorted().joined(separator: ",")
            switch op {
            case .exists: return key
            case .doesNotExist: return "!" + key
            case .equals, .doubleEquals, .notEquals: return key + op.rawValue + sortedValues
            case .greaterThan: return key + ">" + sortedValues
            case .lessThan: return key + "<" + sortedValues
            case .in, .notIn: return "\(key) \(op.rawValue) (\(sortedValues))"
            }
        }
    }

    /// An error in a selector, worded exactly as apimachinery words it.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public init(message: String) { self.message = message }
        public var description: String { message }

        /// `utilerrors.Aggregate`: one message alone, several as `[a, b]`, duplicates dropped.
        init(aggregating messages: [String]) {
            var unique: [String] = []
            for message in messages where !unique.contains(message) { unique.append(message) }
            self.message = unique.count == 1 ? unique[0] : "[" + unique.joined(separator: ", ") + "]"
        }
    }

    public private(set) var requirements: [Requirement]
    /// True for the selector that matches no labels at all (a nil API selector).
    public private(set) var matchesNothing = false

    /// A selector of these requirements, sorted by key.
    public init(requirements: [Requirement] = []) {
        self.requirements = Self.sortedByKey(requirements)
    }

    /// Matches every set of labels.
    public static let everything = LabelSelector()

    /// Matches no set of labels.
    public static let nothing: LabelSelector = {
        var selector = LabelSelector()
        selector.matchesNothing = true
        return selector
    }()

    /// True when the selector does not restrict anything.
    public var isEmpty: Bool { requirements.isEmpty && !matchesNothing }

    public func matches(_ labels: [String: String]) -> Bool {
        !matchesNothing && requirements.allSatisfy { $0.matches(labels) }
    }

    /// The canonical string form, e.g. `a=b,c in (x,y),!d`.
    public var description: String { requirements.map(\.description).joined(separator: ",") }

    /// Stable sort by key, the order apimachinery keeps requirements in.
    static func sortedByKey(_ requirements: [Requirement]) -> [Requirement] {
        requirements.enumerated().sorted { a, b in
            a.element.key != b.element.key ? a.element.key < b.element.key : a.offset < b.offset
        }.map(\.element)
    }
}
