#!/usr/bin/env bash
# A real workload through a tfs mount: tar, git, cp -a, rename storms, hard links, symlinks,
# xattrs, chmod/chown, truncate, sparse files, FIFOs, a non-UTF-8 name and one big file.
# Usage: workload.sh MOUNT TARBALL BIG_MIB
set -euo pipefail
M="$1"; TARBALL="$2"; BIG_MIB="${3:-200}"
cd "$M"

# A real source tree from a tarball.
mkdir -p src
tar -xzf "$TARBALL" -C src

# git: init, commits, a branch, checkout back and forth.
mkdir repo
cd repo
git init -q -b main
git config user.email e2e@tfs.invalid
git config user.name e2e
cp -a ../src/. .
git add -A
git commit -qm "import"
echo "a change" >> README.md
git commit -qam "change"
git checkout -q -b side HEAD~1
echo "side" > side.txt
git add side.txt
git commit -qm "side"
git checkout -q main
git gc -q --prune=now
cd "$M"

# cp -a of a whole tree (times, modes, links preserved).
cp -a src src-copy

# A rename storm, including renames over existing files and of directories.
mkdir -p storm/a storm/b
for i in $(seq 1 200); do printf 'file %s\n' "$i" > "storm/a/f$i"; done
for i in $(seq 1 200); do mv "storm/a/f$i" "storm/b/g$i"; done
for i in $(seq 1 50); do mv "storm/b/g$i" "storm/b/g$((i + 100))"; done
mv storm/b storm/c
mv storm/a storm/c/emptied

# Hard links, symlinks (relative, absolute, dangling, escaping).
ln storm/c/g60 hard-1
ln storm/c/g60 storm/hard-2
ln -s storm/c/g61 sym-rel
ln -s /etc/hostname sym-abs
ln -s ../../outside/of/the/tree sym-escape
ln -s nowhere sym-dangling

# xattrs: text, binary, replaced, removed; on a file and a directory.
setfattr -n user.color -v blue storm/c/g62
setfattr -n user.bin -v 0x00ff10 storm/c/g63
setfattr -n user.color -v green storm/c/g62
setfattr -n user.gone -v x storm/c/g64
setfattr -x user.gone storm/c/g64
setfattr -n user.dir -v yes storm

# Modes and owners.
chmod 600 storm/c/g65
chmod 4755 storm/c/g66
chmod 1777 storm/c
chown 1234:5678 storm/c/g67
chown -h 42:43 sym-rel

# Truncate down and up, sparse files, a FIFO, a non-UTF-8 name.
truncate -s 3 storm/c/g68
truncate -s 100000 storm/c/g69
dd if=/dev/urandom of=sparse.bin bs=4096 count=1 seek=20000 status=none
truncate -s 1G sparse-empty.bin
mkfifo fifo
printf 'latin-1 name\n' > "$(printf 'caf\351')"

# Times set separately.
touch -m -d '2020-01-02 03:04:05' storm/c/g70
touch -a -d '2019-01-02 03:04:05' storm/c/g71

# Deletions.
rm storm/c/g72 storm/c/g73
rm -rf src-copy/"$(ls src-copy | head -n 1)"

# One big file.
head -c "${BIG_MIB}M" /dev/urandom > big.bin
sync
