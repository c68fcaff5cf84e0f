#!/usr/bin/env bash
# Fails when a banned unsafe function (style.md rule 16) is called in the
# given C files.  \b keeps snprintf, vsnprintf and strtok_r allowed.
set -u
banned='\b(strcpy|strcat|sprintf|vsprintf|strtok|gets|atoi|strncpy)[[:space:]]*\('
status=0
for f in "$@"; do
	[ -f "$f" ] || continue
	if grep -nE "$banned" "$f" | sed "s|^|$f:|" | grep .; then
		status=1
	fi
done
[ $status -eq 0 ] || echo "banned functions used (style.md rule 16)" >&2
exit $status
