#!/usr/bin/env bash
# Fuzzes the checkpoint reader (and safetensors import) with libFuzzer and AddressSanitizer for a
# bounded time. Fails on a crash, a memory error, a leak, a timeout or an allocation over 256 MB.
#
#   bash Tests/Fuzz/run-fuzzer.sh [SECONDS] [checkpoint|safetensors|all]    default: 30 checkpoint
#   bash Tests/Fuzz/run-fuzzer.sh --reproduce FILE [checkpoint|safetensors]  run one saved input
#   bash Tests/Fuzz/run-fuzzer.sh --write-seeds                             rewrite Tests/Fuzz/corpus
#
# SECONDS is per target. The target can also come from TINYGPT_FUZZ_TARGET. The binary, the
# working corpora, logs and crash reproducers go under .build-fuzz/ (git ignores .build-*).
# Needs a Swift toolchain that ships libFuzzer (swift.org toolchains on Linux); with any other,
# it says so and exits 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

if ! command -v swiftc >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swiftc ]; then
    export PATH=/opt/swift/usr/bin:$PATH
fi

seconds=30
target=${TINYGPT_FUZZ_TARGET:-checkpoint}
mode=fuzz
case "${1:-}" in
    --write-seeds) mode=seeds ;;
    --reproduce) mode=reproduce; input=${2:?"--reproduce needs a file"}; target=${3:-$target} ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    "") ;;
    *) seconds=$1; target=${2:-$target} ;;
esac
case "$seconds" in
    ''|*[!0-9]*) echo "fuzz: SECONDS must be a whole number, got '$seconds'" >&2; exit 2 ;;
esac
case "$target" in
    checkpoint|safetensors|all) ;;
    *) echo "fuzz: the target must be checkpoint, safetensors or all, got '$target'" >&2; exit 2 ;;
esac

# MARK: - Toolchain

if ! command -v swiftc >/dev/null 2>&1; then
    echo "fuzz: skipped: swiftc is not on PATH"
    exit 0
fi
runtime_dir="$(dirname "$(command -v swiftc)")/../lib/swift/clang/lib"
if ! ls "$runtime_dir"/*/libclang_rt.fuzzer* >/dev/null 2>&1; then
    echo "fuzz: skipped: this Swift toolchain has no libFuzzer runtime (-sanitize=fuzzer needs a swift.org toolchain on Linux)"
    exit 0
fi
arch_flags=()
if [ "$(uname -m)" = x86_64 ]; then arch_flags=(-Xcc -march=x86-64-v3); fi
if command -v llvm-symbolizer >/dev/null 2>&1; then
    export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer)}
fi

# MARK: - Build

out=.build-fuzz
binary=$out/tinygpt-fuzzer
mkdir -p "$out"

build() {
    local stale
    stale=$(find Sources/TinyGPT Tests/Fuzz \( -name '*.swift' -o -name run-fuzzer.sh \) -newer "$binary" 2>/dev/null | head -n 1 || true)
    if [ -x "$binary" ] && [ -z "$stale" ]; then return 0; fi
    # Compile a snapshot, so an edit made during the build cannot break it; the prefix map makes
    # file names in messages and stack traces point at the real sources.
    rm -rf "$out/src"
    mkdir -p "$out/src/Sources" "$out/src/Tests/Fuzz"
    cp -R Sources/TinyGPT "$out/src/Sources/"
    cp Tests/Fuzz/*.swift "$out/src/Tests/Fuzz/"
    local sources=()
    while IFS= read -r file; do sources+=("$file"); done < <(cd "$out/src" && find Sources Tests -name '*.swift' | sort)
    local start=$SECONDS
    echo "fuzz: compiling ${#sources[@]} files with -sanitize=fuzzer,address (about a minute)"
    if ! (cd "$out/src" && swiftc -sanitize=fuzzer,address -parse-as-library -O -g -swift-version 5 -module-name TinyGPT \
            "${arch_flags[@]}" -num-threads 2 -file-prefix-map "$root/$out/src=$root" \
            "${sources[@]}" -o "$root/$binary.new") >"$out/build.log" 2>&1; then
        grep -v "Cannot export local symbol" "$out/build.log" | tail -n 40 >&2
        echo "fuzz: FAIL: the fuzzer did not compile (full log: $out/build.log)" >&2
        exit 1
    fi
    mv "$binary.new" "$binary"
    echo "fuzz: compiled $binary in $((SECONDS - start)) s"
}

build

if [ "$mode" = seeds ]; then
    TINYGPT_FUZZ_WRITE_SEEDS=Tests/Fuzz/corpus "$binary"
    exit 0
fi
if [ "$mode" = reproduce ]; then
    [ "$target" != all ] || { echo "fuzz: --reproduce needs checkpoint or safetensors" >&2; exit 2; }
    TINYGPT_FUZZ_TARGET=$target "$binary" -rss_limit_mb=2048 -malloc_limit_mb=256 "$input"
    exit $?
fi

# MARK: - Fuzz

# Fresh seeds from the library's encoders (still valid if the format moved on since the committed
# corpus was written), next to the committed ones.
rm -rf "$out/seeds"
TINYGPT_FUZZ_WRITE_SEEDS="$out/seeds" "$binary" >/dev/null

# Runs one target; prints one summary line; returns 1 on any finding.
run_target() {
    local name=$1 max_len modes
    case "$name" in
        checkpoint) max_len=4096; modes="00 01 03" ;;
        safetensors) max_len=8192; modes="00 01" ;;
    esac
    local corpus=$out/corpus/$name artifacts=$out/artifacts/$name log=$out/$name.log
    rm -rf "$corpus" "$artifacts"
    mkdir -p "$corpus" "$artifacts"

    # Each seed once per mode byte (see the fuzzer files): as is, with CRCs or lengths repaired.
    local seed count
    for seed in Tests/Fuzz/corpus/"$name"/* "$out/seeds/$name"/*; do
        [ -f "$seed" ] || continue
        local base
        base=$(basename "$seed")
        for m in $modes; do
            if [ "$name" = checkpoint ]; then
                { printf "\\x$m"; cat "$seed"; } >"$corpus/$m-$base"
            else
                { printf "\\x$m"; tail -c +2 "$seed"; } >"$corpus/$m-$base"
            fi
        done
    done
    count=$(find "$corpus" -type f | wc -l | tr -d ' ')

    local status=0 start=$SECONDS
    TINYGPT_FUZZ_TARGET=$name "$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=256 \
        -max_len="$max_len" -timeout=10 -dict="Tests/Fuzz/$name.dict" -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1 || status=$?

    local execs rate cov units findings
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1 | grep -Eo '[0-9]+' || true)
    units=$(find "$corpus" -type f | wc -l | tr -d ' ')
    findings=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
    local found=0
    [ -z "$findings" ] || found=$(printf '%s\n' "$findings" | wc -l | tr -d ' ')

    local verdict=PASS
    if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then verdict=FAIL; fi
    echo "fuzz $name: $verdict: ${execs:-?} executions in $((SECONDS - start)) s (${rate:-?}/s), $count seeds, corpus $units inputs, ${cov:-?} edges; $found crashes, leaks, timeouts or out-of-memory (exit $status)"
    if [ "$verdict" = FAIL ]; then
        grep -v '^#[0-9]' "$log" | tail -n 60 >&2
        local file
        for file in $findings; do
            echo "fuzz: reproduce with: bash Tests/Fuzz/run-fuzzer.sh --reproduce $file $name" >&2
        done
        echo "fuzz: full log: $log" >&2
        return 1
    fi
}

failed=0
if [ "$target" = all ]; then
    run_target checkpoint || failed=1
    run_target safetensors || failed=1
else
    run_target "$target" || failed=1
fi
exit $failed
