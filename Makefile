# git-orchestrate — the two commands a newcomer needs are `make demo` and `make test`.
SWIFT      ?= swift
PREFIX     ?= /usr/local
CONFIG     ?= debug
BIN         = .build/$(CONFIG)/git-orchestrate
VENV       ?= .venv
MCP_PIN    ?= mcp==1.26.0
AGENTS_VENV ?= .venv-agents
AGENTS_PYTHON ?= $(shell for p in python3.11 python3.12 python3.13 python3; do command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null && { echo $$p; break; }; done)
# Versions the presets were checked against (docs/agents.md); the CLIs are real, the model is ours.
AGENTS_PINS ?= claude-agent-sdk==0.2.189 aider-chat==0.86.2 pytest
SHARE       = .build/share
MANDIR     ?= $(PREFIX)/share/man/man1
BASHDIR    ?= $(PREFIX)/share/bash-completion/completions
ZSHDIR     ?= $(PREFIX)/share/zsh/site-functions
FISHDIR    ?= $(PREFIX)/share/fish/vendor_completions.d

.PHONY: all deps static-deps venv venv-agents build release test test-faults test-agents demo man completions install install-extras uninstall format lint bench clean

all: build

## deps: install libgit2 (and pkg-config) when pkg-config cannot find libgit2
deps:
	@if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libgit2; then \
	  : ; \
	elif [ "$$(uname -s)" = Darwin ]; then \
	  echo "libgit2 is missing: run 'brew install libgit2 pkg-config'"; exit 1; \
	elif command -v apt-get >/dev/null 2>&1; then \
	  echo "make deps: installing libgit2-dev and pkg-config with apt-get"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libgit2-dev pkg-config >/dev/null; \
	else \
	  echo "libgit2 with its pkg-config file is required (Debian: libgit2-dev)"; exit 1; \
	fi
	@pkg-config --exists libgit2 && echo "libgit2 $$(pkg-config --modversion libgit2)"

## venv: the official MCP Python SDK, the independent client of the MCP interoperability test
venv:
	@if [ ! -x $(VENV)/bin/python ] || ! $(VENV)/bin/python -c 'import mcp' 2>/dev/null; then \
	  echo "make venv: installing $(MCP_PIN) into $(VENV)"; \
	  python3 -m venv $(VENV) 2>/dev/null || { \
	    echo "make venv: python3 cannot make a venv; installing python3-venv with apt-get"; \
	    if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-venv >/dev/null; \
	    rm -rf $(VENV); python3 -m venv $(VENV); }; \
	  $(VENV)/bin/pip install -q --disable-pip-version-check '$(MCP_PIN)'; \
	fi

## venv-agents: the real agent CLIs for make test-agents: Claude Code (bundled in claude-agent-sdk) and aider
venv-agents:
	@if [ ! -x $(AGENTS_VENV)/bin/aider ] || ! $(AGENTS_VENV)/bin/python -c 'import claude_agent_sdk, pytest' 2>/dev/null; then \
	  echo "make venv-agents: installing $(AGENTS_PINS) into $(AGENTS_VENV) (Python: $(AGENTS_PYTHON))"; \
	  $(AGENTS_PYTHON) -m venv $(AGENTS_VENV) 2>/dev/null || { \
	    echo "make venv-agents: $(AGENTS_PYTHON) cannot make a venv; installing python3-venv with apt-get"; \
	    if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq python3-venv >/dev/null; \
	    rm -rf $(AGENTS_VENV); $(AGENTS_PYTHON) -m venv $(AGENTS_VENV); }; \
	  $(AGENTS_VENV)/bin/pip install -q --disable-pip-version-check $(AGENTS_PINS); \
	fi

build: deps
	$(SWIFT) build -c $(CONFIG)

## release: the optimised binary; on Linux with the Swift runtime and Foundation linked in
## (--static-swift-stdlib: a process starts in ~12 ms instead of ~20, docs/performance.md)
release: deps static-deps
	$(SWIFT) build -c release --product git-orchestrate $(RELEASE_FLAGS)

# Linking Foundation statically needs libcurl's development link (FoundationNetworking, which the
# MCP SDK imports, calls libcurl); without it, and on macOS, the release build links dynamically.
RELEASE_FLAGS = $(shell [ "$$(uname -s)" = Linux ] && { pkg-config --exists libcurl 2>/dev/null || [ -e /usr/lib/x86_64-linux-gnu/libcurl.so ] || [ -e /usr/lib/aarch64-linux-gnu/libcurl.so ]; } && echo --static-swift-stdlib)

static-deps:
	@if [ "$$(uname -s)" = Linux ] && ! pkg-config --exists libcurl 2>/dev/null && command -v apt-get >/dev/null 2>&1; then \
	  echo "make release: installing libcurl4-openssl-dev with apt-get (to link Foundation statically)"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libcurl4-openssl-dev >/dev/null \
	    || echo "make release: libcurl4-openssl-dev could not be installed; linking dynamically"; \
	fi

## test: everything the project promises, on real repositories with the real libgit2
test: deps venv
	$(SWIFT) build
	ORCHESTRATE_PYTHON=$(CURDIR)/$(VENV)/bin/python $(SWIFT) test

## test-faults: the long fault-injection tests (kill -9 at random instants, …)
test-faults: deps
	$(SWIFT) build
	ORCHESTRATE_FAULTS=1 $(SWIFT) test --filter 'FaultTests|HostileAgentTests'

## test-agents: the real Claude Code and aider driven through the presets (and Claude Code over MCP),
## each pointed at a fake model server of ours on 127.0.0.1 (tests/agents); no network, no real model
test-agents: deps venv-agents
	$(SWIFT) build
	ORCHESTRATE_BIN=$(CURDIR)/$(BIN) $(AGENTS_VENV)/bin/python -m pytest -q tests/agents

## demo: a throw-away repository, the example plan run end to end (script sub-tasks, no LLM, no network)
demo: build
	@examples/demo.sh $(CURDIR)/$(BIN)

## man: the manual page, from swift-argument-parser's generate-manual plugin (works offline)
man: build
	$(SWIFT) package --disable-sandbox plugin generate-manual --configuration $(CONFIG)
	install -d $(SHARE)/man/man1
	# mdoc wants a paragraph macro, not an empty line, between paragraphs.
	# EXIT STATUS lists the codes the README documents instead of the generic ".Ex -std".
	sed -e 's/^$$/.Pp/' -e '/^\.Ex -std/{' -e 'r docs/exit-status.mdoc' -e 'd' -e '}' \
	  .build/plugins/GenerateManual/outputs/git-orchestrate/git-orchestrate.1 > $(SHARE)/man/man1/git-orchestrate.1

## completions: bash (with _git_orchestrate for 'git orchestrate <TAB>'), zsh and fish
completions: build
	install -d $(SHARE)/completions
	# The bash script includes _git_orchestrate (completions/git-wrapper.bash) for 'git orchestrate <TAB>'.
	$(BIN) --generate-completion-script bash > $(SHARE)/completions/git-orchestrate.bash
	$(BIN) --generate-completion-script zsh > $(SHARE)/completions/_git-orchestrate
	$(BIN) --generate-completion-script fish > $(SHARE)/completions/git-orchestrate.fish

## install: the binary, the man page ('git help orchestrate' opens it) and the shell completions
install:
	$(MAKE) man completions CONFIG=release
	# After the manual's plugin, which builds the tool its own way.
	$(MAKE) release
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 .build/release/git-orchestrate $(DESTDIR)$(PREFIX)/bin/git-orchestrate
	$(MAKE) install-extras

install-extras:
	install -d $(DESTDIR)$(MANDIR) $(DESTDIR)$(BASHDIR) $(DESTDIR)$(ZSHDIR) $(DESTDIR)$(FISHDIR)
	install -m 644 $(SHARE)/man/man1/git-orchestrate.1 $(DESTDIR)$(MANDIR)/git-orchestrate.1
	install -m 644 $(SHARE)/completions/git-orchestrate.bash $(DESTDIR)$(BASHDIR)/git-orchestrate
	install -m 644 $(SHARE)/completions/_git-orchestrate $(DESTDIR)$(ZSHDIR)/_git-orchestrate
	install -m 644 $(SHARE)/completions/git-orchestrate.fish $(DESTDIR)$(FISHDIR)/git-orchestrate.fish

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/git-orchestrate $(DESTDIR)$(MANDIR)/git-orchestrate.1 \
	  $(DESTDIR)$(BASHDIR)/git-orchestrate $(DESTDIR)$(ZSHDIR)/_git-orchestrate $(DESTDIR)$(FISHDIR)/git-orchestrate.fish

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

lint:
	$(SWIFT) format lint --recursive Sources Tests Package.swift

## bench: the performance figures against the git-CLI yardstick (a program, never a test); writes
## bench-out/results.json and docs/performance.md. Quick: make bench BENCH_SIZES="1000 20000"
BENCH_SIZES ?= 1000 20000 100000
BENCH_REPS  ?= 3
BENCH_ONLY  ?=
BENCH_DISK_SIZES ?= 1000
bench: deps venv static-deps
	@command -v hyperfine >/dev/null 2>&1 && [ -x /usr/bin/time ] || { \
	  echo "make bench: installing hyperfine and time with apt-get"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq hyperfine time >/dev/null; }
	$(SWIFT) build -c release --product git-orchestrate $(RELEASE_FLAGS)
	BENCH_SIZES="$(BENCH_SIZES)" BENCH_REPS="$(BENCH_REPS)" BENCH_ONLY="$(BENCH_ONLY)" BENCH_DISK_SIZES="$(BENCH_DISK_SIZES)" \
	  $(VENV)/bin/python bench/bench.py --bin .build/release/git-orchestrate --out bench-out

clean:
	rm -rf .build
