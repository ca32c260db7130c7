# The two commands (README.md):
#   make bench   set up, build, and run the main job: ipckit bench on its defaults
#   make test    set up, build, and pass every test
# Both install missing Debian packages first (scripts/setup.sh). In CI (CI=true) warnings are errors.
PRESET ?= release
BUILD  := build/$(PRESET)
CMAKE_FLAGS := $(if $(filter true,$(CI)),-DIPCKIT_WERROR=ON,)

# Fuzzing (docs/design/fuzzing.md): FUZZ_SECONDS per target (make fuzz: 30; make fuzz-long: 3600
# unless given), FUZZ_TARGETS to run only some (uri units frame fifo_reply channel).
FUZZ_SECONDS ?= 30
FUZZ_TARGETS ?=

.PHONY: bench test setup configure build build-bench deb asan tsan tsan-channel soak tidy fuzz fuzz-build fuzz-long fuzz-seeds format clean

# make bench builds only the ipckit command (library, bench engine, CLI: not the tests, examples or
# standalone benches); make test builds the rest with the same preset and flags, recompiling
# nothing (tests/install/check_reconfigure.cmake).
bench: build-bench
	$(BUILD)/bin/ipckit bench --json bench.json

test: build
	ctest --preset $(PRESET)

# make bench (and what it builds first) installs only the packages the bench needs; the rest come
# with the first make test (scripts/setup.sh says which).
SETUP_SCOPE ?= all
bench build-bench: SETUP_SCOPE = bench
setup:
	@scripts/setup.sh $(SETUP_SCOPE)

configure: setup
	cmake --preset $(PRESET) $(CMAKE_FLAGS) -DIPCKIT_TEST_BUILD_PROGRAMS=ON >/dev/null

build: configure
	cmake --build --preset $(PRESET)

build-bench: configure
	cmake --build --preset $(PRESET) --target ipckit_cli

# The .deb packages (docs/design/packaging.md): libipckit0, libipckit-dev, ipckit, from this
# preset's build tree, in $(BUILD)/deb/; then checked from a scratch root and by lintian.
deb: configure
	cmake --build --preset $(PRESET) --target ipckit_packaged
	cd $(BUILD) && cpack --config CPackConfig.cmake
	tests/install/check_debs.sh $(BUILD)/deb $(CURDIR) $(BUILD)/deb-check
	lintian --fail-on error,warning $(BUILD)/deb/*.deb

asan:
	$(MAKE) test PRESET=asan

tsan:
	$(MAKE) test PRESET=tsan

# The channel algorithm with threads over one mapping, under ThreadSanitizer (what CI runs; TSan
# cannot see across processes, so the multi-process tests stay in the ASan run). The ipckit command
# is not built here, so the test of the shipped binary (it runs ipckit) is left to make test/asan.
tsan-channel: setup
	cmake --preset tsan $(CMAKE_FLAGS) -DIPCKIT_TEST_BUILD_PROGRAMS=OFF >/dev/null
	cmake --build --preset tsan --target ipckit_leak_check unit_channel_tests multiprocess_channel_tests \
	  example_chan_pubsub example_worker_pool
	ctest --preset tsan -R 'Channel' -E 'TheShippedBinary'

# Label slow (the soaks). Not `ctest --preset soak`: that preset inherits the base preset's
# exclusion of label slow and so selects no test at all.
soak: build
	ctest --test-dir $(BUILD) -L slow --output-on-failure --no-tests=error

# clang-tidy over the library, command, benches, examples and Python module, from this preset's
# compile_commands.json (no second build; scripts/tidy.sh says how).
tidy: configure
	scripts/tidy.sh $(BUILD)

# Every libFuzzer target for FUZZ_SECONDS under ASan+UBSan, on a scratch copy of fuzz/corpus/;
# fails on any crash, hang (> 2 s per input) or > 2 GiB.
fuzz: fuzz-build
	fuzz/run.sh build/fuzz $(FUZZ_SECONDS) ci $(FUZZ_TARGETS)

fuzz-build: setup
	cmake --preset fuzz $(CMAKE_FLAGS) >/dev/null
	cmake --build --preset fuzz

# Long runs: a corpus kept in build/fuzz/fuzz-corpus/, and every distinct crash collected.
fuzz-long: fuzz-build
	fuzz/run.sh build/fuzz $(if $(filter command line environment,$(origin FUZZ_SECONDS)),$(FUZZ_SECONDS),3600) long $(FUZZ_TARGETS)

# Rewrites the seed corpus: fuzz/make_seeds.py, and channel files written by the library.
fuzz-seeds: fuzz-build
	cmake --build --preset fuzz --target ipckit_fuzz_seeds
	fuzz/make_seeds.py
	build/fuzz/fuzz/ipckit_fuzz_seeds fuzz/corpus/channel

format:
	git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf build
