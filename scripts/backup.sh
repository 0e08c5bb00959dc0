#!/bin/sh
# One backup of the app's database, then the oldest backups beyond the newest N removed.
#
#   scripts/backup.sh [ENV_FILE]
#
# Made for cron, which starts a command with almost no environment: a bare `flask db backup`
# there would not see ITHEALTH_DATABASE_URL and would back up the wrong database (or none).
# ENV_FILE is the service's environment file (KEY=value lines, as systemd's EnvironmentFile
# reads them: # comments, optional double quotes), read as data, never run as shell code.
#
# Settings (from the environment or ENV_FILE):
#   ITHEALTH_BACKUP_DIR   where backups go (default instance/backups, made owner-only)
#   ITHEALTH_BACKUP_KEEP  how many of the newest to keep (default 48: two days of hourly ones)
# The file is it-health-YYYYMMDD-HHMMSS.sqlite on SQLite, .dump (a pg_dump archive) on
# PostgreSQL; the time is UTC. Exit status: 0 when the backup was written and checked.
set -eu
cd "$(dirname "$0")/.."

if [ $# -gt 1 ]; then
    echo "usage: scripts/backup.sh [ENV_FILE]" >&2
    exit 2
fi
if [ $# -eq 1 ]; then
    if [ ! -r "$1" ]; then
        echo "scripts/backup.sh: cannot read the environment file $1" >&2
        exit 2
    fi
    while IFS= read -r line || [ -n "$line" ]; do
        case $line in
            '' | '#'* | ';'*) continue ;;
        esac
        key=${line%%=*}
        value=${line#*=}
        case $key in
            *[!A-Za-z0-9_]* | '' | [0-9]*)
                echo "scripts/backup.sh: $1: not a KEY=value line: ${key%%[!A-Za-z0-9_]*}..." >&2
                exit 2 ;;
        esac
        case $value in
            \"*\") value=${value#\"}; value=${value%\"} ;;
        esac
        export "$key=$value"
    done < "$1"
fi

dir=${ITHEALTH_BACKUP_DIR:-instance/backups}
keep=${ITHEALTH_BACKUP_KEEP:-48}
case $keep in
    '' | *[!0-9]* | 0)
        echo "scripts/backup.sh: ITHEALTH_BACKUP_KEEP must be a whole number of at least 1, not '$keep'" >&2
        exit 2 ;;
esac
if [ -n "${ITHEALTH_DATABASE_URL:-}" ]; then kind=dump; else kind=sqlite; fi

file="$dir/it-health-$(date -u +%Y%m%d-%H%M%S).$kind"
.venv/bin/flask --app app db backup "$file"

# Newest first; everything after the first $keep goes. Names hold no spaces (made above).
ls -1t "$dir"/it-health-*."$kind" | tail -n "+$((keep + 1))" | while IFS= read -r old; do
    rm -f -- "$old"
    echo "Removed $old (keeping the newest $keep)."
done
