#!/usr/bin/env bash
# Installs what the R compatibility tests (compat/) need: R with httpuv and jsonlite, all three
# from Debian, since neither CRAN nor the Ambiorix package is reachable from the machines these
# tests run on. Safe to run again: it does nothing when Rscript and both R packages are present.
set -euo pipefail

have_r() {
	command -v Rscript >/dev/null 2>&1 &&
		Rscript -e 'quit(status = !all(sapply(c("httpuv", "jsonlite"), requireNamespace, quietly = TRUE)))' >/dev/null 2>&1
}

if ! have_r; then
	echo "installing R, httpuv and jsonlite from Debian (needed by the compat tests)"
	if [ "$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi
	export DEBIAN_FRONTEND=noninteractive
	packages=(r-base-core r-cran-httpuv r-cran-jsonlite)
	# A fresh machine may have no package lists yet; only update when apt cannot see the packages.
	if ! apt-cache show "${packages[@]}" >/dev/null 2>&1; then
		$sudo apt-get update -qq
	fi
	$sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
if ! have_r; then
	echo "R with httpuv and jsonlite is still missing after apt-get install; the compat tests cannot run" >&2
	exit 1
fi
echo "R: $(Rscript -e 'cat(R.version.string, "httpuv", format(packageVersion("httpuv")), "jsonlite", format(packageVersion("jsonlite")))' 2>/dev/null)"
