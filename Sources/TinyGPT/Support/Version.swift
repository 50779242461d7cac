// The version of this TinyGPT, in one place: the command line prints it and every checkpoint
// records the version that wrote it. Semantic versioning; the git tag of a release is this string.

/// The release this source tree builds.
public enum TinyGPTVersion {
    /// Major.minor.patch, as tagged in git.
    public static let string = "1.0.0"
}
