#!/usr/bin/env bash
# The ordinary-tools workload: run in an empty directory (a tfs mount, or a plain directory to
# compare with). Every mutating FUSE operation is exercised. Explicit times are in the past so a
# tree comparison can tell them from clock times.
set -euo pipefail
umask 022
mkdir -p src/sub/deeper
echo hello > src/a.txt
printf 'bytes\0with\0nul' > src/sub/bin
head -c 300000 /dev/zero | tr '\0' 'x' > src/sub/deeper/big
ln -s a.txt src/link-to-a
setfattr -n user.colour -v blue src/a.txt
touch -h -d @1000000000 src/link-to-a
touch -d @1000000001 src/a.txt src/sub/bin src/sub/deeper/big
touch -d @1000000002 src/sub/deeper src/sub src

# cp -a: mkdir, create, write, symlink, chown, chmod, utimens, setxattr
cp -a src copy

# tar c / tar x: create, write, utimens, mkdir, symlink
tarball=$(mktemp)
tar -C src -cf "$tarball" .
mkdir untar && tar -C untar -xf "$tarball" && rm -f "$tarball"

# git: many creates, renames (lock files), writes, chmod
git init -q repo
( cd repo && git config user.email t@example.com && git config user.name t \
  && echo content > file && git add file && git commit -q -m first \
  && echo more >> file && git commit -q -am second )

# rename over an existing file
echo one > r1; echo two > r2; mv r1 r2
# rename a directory with contents
mkdir -p dir1/inner && echo in > dir1/inner/f && mv dir1 dir2
# hard links
echo linked > h1; ln h1 h2; ln h2 sub-h3 2>/dev/null || ln h2 h3
# symlinks, one dangling with a non-UTF-8 target
ln -s r2 s1; ln -s $'nowhere-\xe9\xff' s2
# fifo
mkfifo fifo1; chmod 600 fifo1
# xattrs: set, replace, remove, on a directory too
echo x > xf; setfattr -n user.a -v 1 xf; setfattr -n user.a -v 22 xf; setfattr -n user.b -v 3 xf
setfattr -x user.b xf; setfattr -n user.dir -v d dir2
# touch -m and -a separately
echo t > tm; touch -m -d @1100000000 tm; touch -a -d @1200000000 tm
echo t > ta; touch -a -d @1300000000 ta
# sparse file: hole, then data far out
truncate -s 8M sparse; printf 'abc' | dd of=sparse bs=1 seek=5000000 conv=notrunc status=none
# chmod, chown
echo c > perms; chmod 751 perms; chown 1234:5678 perms; chmod u+s,g+s perms 2>/dev/null || true
mkdir sticky; chmod 1777 sticky
# truncate shrink and grow
seq 1 30000 > tr; truncate -s 777 tr; truncate -s 5000 tr
# fallocate (keep size), punch a hole
seq 1 20000 > fa; fallocate -n -o 65536 -l 65536 fa; fallocate -p -o 4096 -l 8192 fa
# a non-UTF-8 name, and a directory with one
echo latin > $'caf\xe9'; mkdir $'d\xff'; echo in > $'d\xff/\xfe'
# unlink, rmdir
echo gone > gone; rm gone; mkdir emptydir; rmdir emptydir; rm -r copy/sub/deeper
# overwrite in the middle, append
printf 'HELLO' | dd of=src/a.txt bs=1 seek=0 conv=notrunc status=none; echo appended >> src/a.txt
# unlink while open: writes to an unlinked file are not part of any tree
exec 3>unlinked-open; echo a >&3; rm unlinked-open; echo b >&3; exec 3>&-
# finally fix a few times explicitly again (directories after their children changed)
touch -d @1400000000 src dir2
