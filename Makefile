# A thin wrapper over CMake, so that nobody needs to know CMake to build, run or test.
#   make            build everything (installs missing Debian packages first)
#   make run        the quick start: serve http://127.0.0.1:8080 on ./authkit.db (.env made once)
#   make demo       the library tour: create a user, log in, validate, log out (./authkit.db)
#   make test       build, then run the whole test suite
#   make test-sanitize   the same suite built with ASan+UBSan
#   make test-tsan  the tests labelled `threads` built with ThreadSanitizer
#   make bench      build and run the in-process benchmarks; make bench-http the HTTP one
#   make fuzz       build the libFuzzer targets with clang and run each FUZZ_SECONDS
#   make install PREFIX=/usr/local
BUILD ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
FUZZ_SECONDS ?= 30
PREFIX ?= /usr/local
WERROR ?= OFF
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all build deps run demo test test-sanitize test-tsan bench bench-http fuzz install clean format

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DAUTHKIT_WERROR=$(WERROR) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

run: build
	bash scripts/run.sh $(BUILD)/authkit

demo: build
	$(BUILD)/examples/quickstart

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-sanitize: deps
	cmake -S . -B $(ASAN_BUILD) -DAUTHKIT_SANITIZE=ON -DAUTHKIT_WERROR=$(WERROR) -DAUTHKIT_BUILD_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j$(JOBS)

# halt_on_error: a race fails the test, also inside `authkit serve` started by a script.
# One test at a time: ThreadSanitizer slows every thread several times over, and the
# store tests' eight-thread races must not also compete with each other for the cores.
test-tsan: deps
	cmake -S . -B $(TSAN_BUILD) -DAUTHKIT_TSAN=ON -DAUTHKIT_WERROR=$(WERROR) -DAUTHKIT_BUILD_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build $(TSAN_BUILD) -j$(JOBS)
	cd $(TSAN_BUILD) && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" ctest -L threads --output-on-failure

bench: build
	bash bench/run.sh $(BUILD)

bench-http: build
	bash bench/http.sh $(BUILD)

fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DAUTHKIT_BUILD_FUZZ=ON -DAUTHKIT_BUILD_TESTS=OFF -DAUTHKIT_BUILD_BENCH=OFF
	cmake --build build-fuzz -j$(JOBS) --target fuzz_all
	bash fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
