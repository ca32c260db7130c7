#!/usr/bin/env bash
# check_debs.sh DEB_DIR SOURCE_DIR SCRATCH: the .debs `make deb` built work from a scratch root
# (dpkg -x, no root, no chroot): each package holds what it should, `ipckit --version` runs, the
# man pages render, and a consumer project builds against libipckit-dev with find_package (static
# archive and shared library) and pkg-config, then runs.
set -euo pipefail
debs="$(realpath "$1")"
source_dir="$(realpath "$2")"
scratch="$(realpath -m "$3")"
rm -rf "$scratch"
mkdir -p "$scratch"
root="$scratch/root"
fail() { echo "FAIL: $*" >&2; exit 1; }

for pkg in libipckit0 libipckit-dev ipckit; do
    deb=("$debs"/${pkg}_*.deb)
    [[ -f ${deb[0]} ]] || fail "no $pkg package in $debs"
    [[ $(dpkg-deb -f "${deb[0]}" Package) == "$pkg" ]] || fail "${deb[0]} is not $pkg"
    dpkg-deb -x "${deb[0]}" "$root"
    dpkg-deb -c "${deb[0]}" | awk '{print $6}' > "$scratch/$pkg.files"
    grep -qx "./usr/share/doc/$pkg/copyright" "$scratch/$pkg.files" || fail "$pkg: no copyright file"
done
expect_in() {  # PACKAGE REGEX: some file of PACKAGE matches
    grep -qE "$2" "$scratch/$1.files" || fail "$1 holds no file matching $2"
}
expect_not_in() {
    if grep -qE "$2" "$scratch/$1.files"; then fail "$1 holds $(grep -E "$2" "$scratch/$1.files" | head -1)"; fi
}
expect_in libipckit0 '/libipckit\.so\.0$'
expect_not_in libipckit0 '\.a$|/include/|libipckit\.so$'
expect_in libipckit-dev '/libipckit\.a$'
expect_in libipckit-dev '/libipckit\.so$'
expect_in libipckit-dev '/include/ipckit/version\.hpp$'
expect_in libipckit-dev '/cmake/ipckit/ipckitConfig\.cmake$'
expect_in libipckit-dev '/pkgconfig/ipckit\.pc$'
expect_in ipckit '^\./usr/bin/ipckit$'
expect_in ipckit '/share/bash-completion/completions/ipckit$'
expect_in ipckit '/share/man/man1/ipckit\.1\.gz$'
[[ $(dpkg-deb -f "$debs"/libipckit-dev_*.deb Depends) == *libipckit0* ]] || fail "libipckit-dev does not depend on libipckit0"

# The tool, from the scratch root alone.
version="$("$root/usr/bin/ipckit" --version)" || fail "ipckit --version failed"
[[ $version == "ipckit "[0-9]* ]] || fail "ipckit --version printed '$version'"
# One man page per subcommand, each rendering without a warning.
while IFS=$'\t' read -r sub _; do
    page="$root/usr/share/man/man1/ipckit-$sub.1.gz"
    [[ -f $page ]] || fail "no man page for ipckit $sub"
done < <("$root/usr/bin/ipckit" completion commands)

# A consumer against the -dev package: CMake package (archive, then shared library), pkg-config.
libdir="$(dirname "$(find "$root/usr/lib" -name libipckit.a | head -1)")"
for target in ipckit::ipckit_static ipckit::ipckit_shared; do
    build="$scratch/consumer-${target#ipckit::}"
    cmake -S "$source_dir/tests/install/consumer" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_PREFIX_PATH="$root/usr" -DIPCKIT_TARGET="$target" >"$scratch/configure.log" 2>&1 ||
        { cat "$scratch/configure.log" >&2; fail "consumer configure ($target)"; }
    cmake --build "$build" >"$scratch/build.log" 2>&1 || { cat "$scratch/build.log" >&2; fail "consumer build ($target)"; }
    LD_LIBRARY_PATH="$libdir" "$build/consumer" || fail "consumer ($target) failed"
done
flags="$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs ipckit)" ||
    fail "pkg-config ipckit"
# shellcheck disable=SC2086
c++ -std=c++20 "$source_dir/tests/install/consumer/main.cpp" $flags -o "$scratch/consumer_pc" ||
    fail "consumer with pkg-config flags: $flags"
LD_LIBRARY_PATH="$libdir" "$scratch/consumer_pc" || fail "consumer (pkg-config) failed"
# python3-ipckit, when the build has the Python module: importable from Debian's module directory.
python_deb=("$debs"/python3-ipckit_*.deb)
if [[ -f ${python_deb[0]} ]]; then
    dpkg-deb -x "${python_deb[0]}" "$root"
    [[ -d $root/usr/lib/python3/dist-packages/ipckit ]] || fail "python3-ipckit: not in /usr/lib/python3/dist-packages"
    (cd "$scratch" && PYTHONPATH="$root/usr/lib/python3/dist-packages" /usr/bin/python3 -c \
        'import ipckit, sys; sys.exit(0 if ipckit.__file__.startswith(sys.argv[1]) else 1)' "$root") ||
        fail "python3-ipckit: import ipckit from the scratch root failed"
fi
rm -rf "$scratch"
echo "packages OK: $(cd "$debs" && ls ./*.deb | tr '\n' ' ')($version)"
