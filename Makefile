# Thin wrapper over CMake: installs missing Debian packages, configures, builds, runs, tests.
# The build itself lives in CMakeLists.txt.

BUILD      ?= build
TEST_BUILD ?= build-test
DEB_BUILD  ?= build-deb
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps build run test bench fuzz soak format clean

all: build

deps:
	@scripts/install-deps.sh scripts/debian-packages.txt scripts/web-packages.txt

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# Serves on :8080 with the embedded SQLite under ./data (LINTEL_* variables still apply).
# The build's output goes to $(BUILD)/build.log (shown only when it fails): what the terminal
# shows is the server's own lines.
run:
	@scripts/install-deps.sh scripts/debian-packages.txt scripts/web-packages.txt
	@mkdir -p $(BUILD)
	@{ cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) && \
	   cmake --build $(BUILD) -j $(JOBS); } >$(BUILD)/build.log 2>&1 || \
	   { cat $(BUILD)/build.log; echo "make run: the build failed (log: $(BUILD)/build.log)"; exit 1; }
	@scripts/run.sh $(BUILD)

# The whole suite through ctest (browser tests included: ctest -L browser), in a build with
# AddressSanitizer and UBSan, warnings as errors.
test: deps
	cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLINTEL_SANITIZE=ON -DLINTEL_WERROR=ON $(CMAKE_ARGS) >/dev/null
	cmake --build $(TEST_BUILD) -j $(JOBS)
	cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

# Only the Debian package test (tests/ops/package.sh: a Release build, cpack, dpkg-deb, apt -s,
# the extracted tree served), which make test runs too.
test-package: deps
	cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLINTEL_SANITIZE=ON -DLINTEL_WERROR=ON $(CMAKE_ARGS) >/dev/null
	cd $(TEST_BUILD) && ctest --output-on-failure -L package --timeout 1500

# The bench's packages come first: its baseline servers need ulfius at configure time.
bench:
	@scripts/install-deps.sh scripts/debian-packages.txt scripts/bench-packages.txt
	$(MAKE) build
	tests/bench/run.sh $(BUILD)

# Mixed traffic at 64 connections for SOAK_MINUTES (default 30) against a Release-like build;
# RSS, 5xx and p99 per minute, descriptors before and after, pass/fail (docs/hardening.md).
soak: build
	tests/soak/run.sh $(BUILD)

# Every libFuzzer harness for FUZZ_SECONDS (default 60) each, FUZZ_JOBS (default 1) at once.
fuzz:
	@scripts/install-deps.sh scripts/debian-packages.txt scripts/bench-packages.txt
	tests/fuzz/run.sh $(FUZZ_TARGETS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(TEST_BUILD) $(DEB_BUILD)
