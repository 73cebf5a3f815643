#!/usr/bin/env bash
# Checks that the module graph in Package.swift is the one the code uses:
#   1. no `@_exported import` anywhere in Sources (re-exports hide the real graph);
#   2. for every Swift target, the package modules its files `import` equal the target's
#      `dependencies` in Package.swift (no missing and no unused dependency).
# Run from the repository root (make test does). Prints what drifted and how to fix it.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

if grep -rn "@_exported" Sources --include='*.swift'; then
    echo "check-imports: @_exported found above. Import each module where it is used instead."
    status=1
fi

# One line per target: kind name dep1 dep2 ... (products are named by their module, e.g. ArgumentParser).
targets=$(tr '\n' ' ' < Package.swift | awk '{
    s = $0
    while (match(s, /\.(target|executableTarget|testTarget|systemLibrary)\(name: *"[^"]*"/)) {
        head = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
        kind = head; sub(/\(.*/, "", kind); sub(/^\./, "", kind)
        name = head; sub(/^[^"]*"/, "", name); sub(/"$/, "", name)
        # This target'"'"'s text runs to the next target declaration.
        body = s
        if (match(body, /\.(target|executableTarget|testTarget|systemLibrary)\(/)) body = substr(body, 1, RSTART - 1)
        deps = ""
        if (match(body, /dependencies: *\[[^]]*\]/)) {
            list = substr(body, RSTART, RLENGTH)
            gsub(/package: *"[^"]*"/, "", list)
            while (match(list, /"[^"]*"/)) {
                deps = deps " " substr(list, RSTART + 1, RLENGTH - 2); list = substr(list, RSTART + RLENGTH)
            }
        }
        path = ""
        if (match(body, /path: *"[^"]*"/)) { path = substr(body, RSTART, RLENGTH); sub(/^path: *"/, "", path); sub(/"$/, "", path) }
        print kind, name, (path == "" ? "-" : path), deps
    }
}')

modules=$(echo "$targets" | awk '{print $2}'; echo ArgumentParser)
# A here-string, not `echo | grep -q`: grep -q exits at its first match, the echo then dies of SIGPIPE
# and, under pipefail, the test failed now and then (1 run in 60 called a used dependency unused).
is_module() { grep -qxF -- "$1" <<< "$modules"; }

while read -r kind name path deps; do
    [ "$kind" = systemLibrary ] && continue
    if [ "$path" = "-" ]; then
        if [ "$kind" = testTarget ]; then path="Tests/$name"; else path="Sources/$name"; fi
    fi
    ls "$path"/*.swift >/dev/null 2>&1 || ls "$path"/**/*.swift >/dev/null 2>&1 || \
        [ -n "$(find "$path" -name '*.swift' 2>/dev/null | head -1)" ] || continue
    used=$(find "$path" -name '*.swift' -print0 | xargs -0 sed -nE 's/^(@testable |@preconcurrency )?import ([A-Za-z_][A-Za-z0-9_]*).*/\2/p' \
        | sort -u | while read -r m; do is_module "$m" && [ "$m" != "$name" ] && echo "$m"; done)
    declared=$(for d in $deps; do echo "$d"; done | sort -u)
    missing=$(comm -23 <(echo "$used" | sed '/^$/d') <(echo "$declared" | sed '/^$/d'))
    unused=$(comm -13 <(echo "$used" | sed '/^$/d') <(echo "$declared" | sed '/^$/d'))
    if [ -n "$missing" ]; then
        for m in $missing; do
            echo "check-imports: $name imports $m ($(grep -rlE "^(@testable |@preconcurrency )?import $m\$" "$path" --include='*.swift' | head -3 | tr '\n' ' ')) but Package.swift does not list it in $name's dependencies. Add it there."
        done
        status=1
    fi
    if [ -n "$unused" ]; then
        for m in $unused; do
            echo "check-imports: Package.swift lists $m as a dependency of $name, but no file under $path imports it. Remove it from Package.swift (or import it where it is used)."
        done
        status=1
    fi
done <<< "$targets"

if [ "$status" -eq 0 ]; then echo "check-imports: Package.swift dependencies match the imports of every target; no @_exported."; fi
exit $status
