#!/usr/bin/env bash
# Prepare this checkout for `make run` (mode "run") or `make test` (mode "test").
#
#   scripts/setup.sh run    system libraries and fonts for WeasyPrint, .venv, requirements.txt,
#                           and the instance/ folder with its database (owner-only)
#   scripts/setup.sh test   all of the above, plus requirements-dev.txt, poppler-utils,
#                           Debian's chromium (for Playwright), postgresql and redis-server, and
#                           axe-core from npm
#
# Safe to re-run: each step does nothing when its work is already done.
# Missing Debian packages are installed with apt-get when running as root; otherwise
# the script prints the exact command to run and stops.
#
# Environment:
#   PYTHON                Python used to create .venv (default: the distribution's python3
#                         when it is 3.11 or later and can make a virtualenv, else python3)
#   SETUP_ASSUME_NONROOT  set to 1 to behave as a non-root user (for trying the script)
set -euo pipefail

MODE="${1:-run}"
case "$MODE" in
    run | test) ;;
    *)
        echo "usage: $0 [run|test]" >&2
        exit 2
        ;;
esac

cd "$(dirname "$0")/.."

VENV=.venv

# The distribution's interpreter first: Debian builds CPython with profile-guided and link-time
# optimisation, which self-built interpreters (pyenv's default, for one) lack; scoring, page
# rendering and WeasyPrint all run measurably faster on it (docs/operations.md).
choose_python() {
    local candidate
    for candidate in /usr/bin/python3 python3; do
        if "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' \
            >/dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    done
    echo python3
}
PYTHON="${PYTHON:-$(choose_python)}"

# Libraries WeasyPrint loads at run time (it renders the PDF reports), and fonts: the report's
# own Inter covers Latin, Greek and Cyrillic; Noto covers the other scripts a business name may be
# written in (Chinese, Japanese and Korean in fonts-noto-cjk, Arabic and most others in
# fonts-noto-core) and colour emoji, so no name prints as empty boxes.
RUNTIME_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core
                  fonts-noto-core fonts-noto-cjk fonts-noto-color-emoji)
# pdftotext/pdftoppm/pdffonts for the PDF tests; chromium for the browser tests; postgresql for
# the storage and web tests, which also run on a throwaway PostgreSQL server of their own
# (tests/postgres_cluster.py: initdb in a temporary folder, never the package's own cluster);
# redis-server for the render queue across machines (the tests start a throwaway one of their own:
# tests/redis_server.py).
TEST_PACKAGES=(poppler-utils chromium postgresql redis-server)

APT_UPDATED=0
WEASYPRINT_UNCHECKED=0

step() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
fail() {
    printf 'setup failed: %s\n' "$1" >&2
    shift
    local line
    for line in "$@"; do
        if [[ -n "$line" ]]; then printf '    %s\n' "$line" >&2; else echo >&2; fi
    done
    exit 1
}

is_root() { [[ "${SETUP_ASSUME_NONROOT:-0}" != 1 && "$(id -u)" -eq 0 ]]; }
is_debian() { command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; }

# Print the packages among "$@" that dpkg does not report as installed. (Not `dpkg -s | grep -q`:
# grep stops reading at the match, and under pipefail the writer's SIGPIPE then reads as "missing"
# for a package with a long description, such as fonts-noto-core.)
missing_debian_packages() {
    local pkg
    for pkg in "$@"; do
        [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" == "install ok installed" ]] ||
            echo "$pkg"
    done
}

# need_debian_packages WHAT PACKAGE...
# Make sure the Debian packages are installed, or explain how to install them.
need_debian_packages() {
    local what="$1"
    shift
    if ! is_debian; then
        step "Not a Debian/Ubuntu system: make sure the equivalents of these are installed ($what):"
        note "$*"
        WEASYPRINT_UNCHECKED=1
        return 0
    fi

    local missing
    mapfile -t missing < <(missing_debian_packages "$@")
    if [[ ${#missing[@]} -eq 0 ]]; then
        return 0
    fi

    if ! is_root; then
        fail "missing system packages ($what): ${missing[*]}" \
            "Install them with:" \
            "" \
            "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" \
            "" \
            "then run make again."
    fi

    step "Installing system packages ($what): ${missing[*]}"
    # apt's output is kept in a log and shown only if something goes wrong.
    local log
    log="$(mktemp)"
    if ! {
        if [[ $APT_UPDATED -eq 0 ]]; then
            apt-get -qq update
        fi
        DEBIAN_FRONTEND=noninteractive apt-get -qq install -y "${missing[@]}"
    } >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        fail "apt-get could not install: ${missing[*]}"
    fi
    rm -f "$log"
    APT_UPDATED=1
}

need_venv() {
    if [[ -x "$VENV/bin/python" ]]; then
        return 0
    fi
    step "Creating virtual environment in $VENV"
    if ! "$PYTHON" -m venv "$VENV"; then
        rm -rf "$VENV"
        fail "could not create $VENV with '$PYTHON -m venv'" \
            "On Debian/Ubuntu: sudo apt-get install -y python3-venv"
    fi
}

# pip_install_if_changed STAMP REQUIREMENTS_FILE [OTHER_FILE...]
# Install REQUIREMENTS_FILE unless STAMP is newer than it and the other files.
pip_install_if_changed() {
    local stamp="$VENV/$1" requirements="$2" file
    shift
    local stale=0
    [[ -f "$stamp" ]] || stale=1
    for file in "$@"; do
        if [[ "$file" -nt "$stamp" ]]; then
            stale=1
        fi
    done
    if [[ $stale -eq 0 ]]; then
        return 0
    fi
    step "Installing Python requirements ($requirements)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements"
    touch "$stamp"
}

check_weasyprint() {
    if [[ $WEASYPRINT_UNCHECKED -eq 0 ]]; then
        return 0
    fi
    step "Checking that WeasyPrint finds its system libraries"
    if ! "$VENV/bin/python" -c "import weasyprint" >/dev/null 2>&1; then
        fail "WeasyPrint cannot load its system libraries (Pango, HarfBuzz)." \
            "Install them with your system's package manager, see" \
            "https://doc.courtbouillon.org/weasyprint/stable/first_steps.html"
    fi
}

# axe-core (accessibility checks in the browser tests) and Lighthouse (benchmarks/lighthouse.py)
# come from npm, pinned in package-lock.json. Without Node.js the browser tests skip their
# accessibility checks.
need_node_modules() {
    if ! command -v npm >/dev/null 2>&1; then
        step "npm not found: browser tests will skip accessibility (axe-core) checks"
        note "Install Node.js and npm to enable them."
        return 0
    fi
    local stamp=node_modules/.setup-stamp
    if [[ -f "$stamp" && ! package-lock.json -nt "$stamp" && ! package.json -nt "$stamp" ]]; then
        return 0
    fi
    step "Installing JavaScript test tools (npm ci)"
    npm ci --silent --no-audit --no-fund --include=dev
    touch "$stamp"
}

# `db init` also makes the instance folder and the database owner-only, where an older version
# left them readable by every local user.
need_database() {
    step "Initialising the database (instance/)"
    "$VENV/bin/flask" --app app db init
}

main() {
    need_debian_packages "WeasyPrint" "${RUNTIME_PACKAGES[@]}"
    if [[ "$MODE" == test ]]; then
        need_debian_packages "tests" "${TEST_PACKAGES[@]}"
    fi

    need_venv
    pip_install_if_changed .requirements.stamp requirements.txt
    if [[ "$MODE" == test ]]; then
        pip_install_if_changed .requirements-dev.stamp requirements-dev.txt requirements.txt
        need_node_modules
    fi
    check_weasyprint
    need_database
}

main
