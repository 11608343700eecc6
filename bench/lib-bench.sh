# Shell helpers shared by the benchmark scripts (sourced, not run).

# One error line on stderr and a non-zero exit.
die() { echo "error: $*" >&2; exit 1; }

# True when FILE exists, is not empty and is newer than every later argument:
# artifacts and exports are reused across runs until brickc changes.
fresh() {
  local file="$1"; shift
  [ -s "$file" ] || return 1
  local dep
  for dep in "$@"; do [ "$file" -nt "$dep" ] || return 1; done
}

# The CPU and its last-level cache, printed beside every speed figure.
print_machine() {
  lscpu | awk -F: '/^Model name|^L3 cache/ {gsub(/^ +/, "", $2); print $1 ": " $2}'
}
