# Login Feed: every set-up step a fresh Debian/Ubuntu machine needs lives here.
#   make demo   run Login Feed against a local demo stack (soketi + sample events)
#   make test   install everything, then lint and run the whole test suite

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP_STAMP := $(VENV)/.installed-stamp
NPM_STAMP := node_modules/.installed-stamp
DEBS_STAMP := $(VENV)/.debs-stamp
# Qt's runtime libraries (offscreen), plus what a real window on X11/Xvfb needs.
QT_DEBS := libglib2.0-0 libgl1 libegl1 libfontconfig1 libdbus-1-3 libxkbcommon0 \
	libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 \
	libxkbcommon-x11-0 libxcb-xkb1 fonts-dejavu-core
# Fonts for every script a support desk meets in names (Latin, Greek, Cyrillic, Arabic, Hebrew, the Indic scripts,
# Thai ...: fonts-noto-core, 12 MB download / 43 MB installed; Chinese, Japanese, Korean: fonts-noto-cjk, 57 / 91 MB).
QT_DEBS += fonts-noto-core fonts-noto-cjk
# The tests' real Secret Service: a private D-Bus session bus with gnome-keyring on it (tests/support/secret_service.py).
TEST_DEBS := dbus gnome-keyring
# The scale-out tests' real PostgreSQL and Redis (tests/support/postgres.py, redis.py: private instances on free ports).
TEST_DEBS += postgresql redis-server
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps test lint demo bench bundle package clean

all: test

$(PIP_STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

# Installs only the Debian packages that are missing; a machine that has them all needs no root.
$(DEBS_STAMP): Makefile | $(PIP_STAMP)
	@missing=""; for p in $(QT_DEBS) $(TEST_DEBS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing the Debian packages Qt and the tests need:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	touch $@

deps: $(PIP_STAMP) $(NPM_STAMP) $(DEBS_STAMP)

lint: deps
	$(VENV)/bin/ruff check .

test: deps
	$(VENV)/bin/ruff check .
	node --test resources/auth0/
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/pytest

demo: deps
	$(PY) tests/support/demo_stack.py

bench: deps
	$(PY) bench/burst.py
	$(PY) bench/tenant_log.py

# The bundle is built from a clean virtual environment, so nothing from the development venv leaks in,
# then checked: --version and --self-test from the bundle itself (offscreen; an explicit keyring choice,
# since a build machine has no Secret Service). build/lib goes too: setuptools never empties it, so a module
# deleted from desktop/ would still be installed and bundled.
bundle: $(DEBS_STAMP)
	rm -rf build/bundle-venv build/pyinstaller build/lib build/bdist.* dist/login-feed
	python3 -m venv build/bundle-venv
	build/bundle-venv/bin/python -m pip install --quiet --upgrade pip
	build/bundle-venv/bin/python -m pip install --quiet '.[bundle]'
	build/bundle-venv/bin/pyinstaller --noconfirm --clean --log-level WARN build.spec --distpath dist --workpath build/pyinstaller
	dist/login-feed/login-feed --version
	QT_QPA_PLATFORM=offscreen PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring dist/login-feed/login-feed --self-test
	du -sh dist/login-feed

# The Debian package of that bundle, dist/login-feed_<version>_<arch>.deb (dpkg-deb only; see
# resources/packaging/deb/build.sh). resources/packaging/deb/check-install.sh installs, runs and removes it.
package: bundle
	resources/packaging/deb/build.sh

clean:
	rm -rf $(VENV) node_modules build dist .pytest_cache .ruff_cache .hypothesis
