#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Blocks the calling thread (one the caller owns, never a Swift concurrency task) for `duration`, resuming
/// after signals. For the loops that run on their own threads: reconnect back-offs, retry pauses.
public func blockingSleep(_ duration: Duration) {
    var spec = timespec(
        tv_sec: Int(duration.components.seconds),
        tv_nsec: Int(duration.components.attoseconds / 1_000_000_000))
    var remaining = timespec()
    while nanosleep(&spec, &remaining) != 0 && errno == EINTR { spec = remaining }
}
