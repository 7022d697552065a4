//! Why `strait local` cannot run a container, one variant per thing it
//! reads from the image, command, arguments or environment.

use super::GATEWAY_ENV;

/// What is wrong with a container's program, naming the argument, flag or
/// setting at fault.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnsupportedReason {
    /// The container has no `image`.
    #[error("the container names no image")]
    NoImage,
    /// An image `strait local` has no program for.
    #[error("{0} is not a built-in image")]
    NotBuiltIn(String),
    /// bb's image started with another command.
    #[error("the command {0:?} is not bb")]
    NotBb(String),
    /// An environment variable that should hold a port number.
    #[error("the environment variable {name}={value:?} is not a port number")]
    EnvNotAPort {
        /// The variable.
        name: String,
        /// Its value as given.
        value: String,
    },
    /// echo-server's image started with another command.
    #[error("the command {0:?} is not echo-server")]
    NotEchoServer(String),
    /// strait's image started as something other than its proxy.
    #[error("strait runs here only as `strait-proxy` or `strait proxy`, not as {0:?}")]
    NotStraitProxy(Vec<String>),
    /// A proxy image without `STRAIT_PROXY_GATEWAY=true`.
    #[error(
        "the proxy image runs only as a multicluster gateway ({GATEWAY_ENV}=true); \
         a meshed Pod gets its proxy from the linkerd.io/inject annotation"
    )]
    NotAGateway,
    /// A flag given last, without its value.
    #[error("the flag --{0} needs a value")]
    FlagWithoutValue(String),
    /// A flag whose value is not a number of the flag's range.
    #[error("--{flag}={value:?} is not a number strait can use")]
    NotANumber {
        /// The flag.
        flag: String,
        /// Its value as given.
        value: String,
    },
    /// A flag whose value is not a positive Go duration (`10s`, `1m`).
    #[error("--{flag}={value:?} is not a duration strait can use")]
    NotADuration {
        /// The flag.
        flag: String,
        /// Its value as given.
        value: String,
    },
    /// A positional argument after the one the program takes.
    #[error("unexpected argument {0:?}")]
    UnexpectedArgument(String),
    /// A bb flag `strait local` does not implement.
    #[error("bb's --{0} is not supported")]
    BbFlag(String),
    /// A bb mode other than `terminus`.
    #[error("bb's {0:?} mode is not supported")]
    BbMode(String),
    /// bb started without a mode.
    #[error("bb needs a mode; only `terminus` is supported")]
    BbWithoutMode,
    /// bb's terminus without a port (or with port 0).
    #[error("bb's terminus needs --h1-server-port")]
    BbWithoutPort,
    /// slow_cooker's image with an empty command line.
    #[error("no command")]
    NoCommand,
    /// A shell started other than as `sh -c SCRIPT`.
    #[error("the shell must be started as `{shell} -c SCRIPT`, not with {args:?}")]
    ShellForm {
        /// The shell's path.
        shell: String,
        /// Its arguments.
        args: Vec<String>,
    },
    /// slow_cooker's image started with another command.
    #[error("the command {0:?} is not slow_cooker")]
    NotSlowCooker(String),
    /// A script statement after slow_cooker, which would never run.
    #[error("the script runs {0:?} after slow_cooker, which never returns")]
    AfterSlowCooker(String),
    /// A `sleep` whose argument is not a number of seconds.
    #[error("`sleep {0}` is not a number of seconds")]
    Sleep(String),
    /// A script statement other than `sleep` and slow_cooker.
    #[error("the script runs {0:?}; only `sleep N` and slow_cooker can run")]
    ScriptCommand(String),
    /// A script that never starts slow_cooker.
    #[error("the script never starts slow_cooker")]
    NoSlowCooker,
    /// A statement with pipes, redirects, variables or `&&`.
    #[error("the script statement {0:?} needs a shell, which strait local does not have")]
    NeedsShell(String),
    /// A statement with an unterminated quote.
    #[error("unterminated quote in {0:?}")]
    UnterminatedQuote(String),
    /// A `-header` that is not `name: value`.
    #[error("-header {0:?} is not `name: value`")]
    Header(String),
    /// A slow_cooker flag `strait local` does not implement.
    #[error("slow_cooker's -{0} is not supported")]
    SlowCookerFlag(String),
    /// `-qps 0` or `-concurrency 0`, which would send nothing.
    #[error("slow_cooker's -qps and -concurrency must be at least 1")]
    ZeroRate,
    /// A `-method` that is not a method name.
    #[error("{0:?} is not an HTTP method")]
    Method(String),
    /// slow_cooker without a URL.
    #[error("slow_cooker needs a URL")]
    NoUrl,
    /// A URL that is not `http://`.
    #[error("the URL {0:?} is not http://")]
    NotHttp(String),
    /// A URL with an empty authority or user information.
    #[error("the URL {0:?} has no usable host")]
    UnusableHost(String),
    /// A URL whose port is not a port number.
    #[error("the URL {0:?} has a bad port")]
    BadPort(String),
    /// A URL with a port but no host.
    #[error("the URL {0:?} has no host")]
    NoHost(String),
}
