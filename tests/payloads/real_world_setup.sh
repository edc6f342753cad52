set -e
python -m dlkit.textures /tmp/mac --per_class 40 --seed 1 >/dev/null
cd /tmp/mac
mkdir -p __MACOSX/dots && cp dots/dots_0000.jpg __MACOSX/dots/._dots_0000.jpg
cp dots/dots_0001.jpg dots/._dots_0001.jpg
echo x > dots/.DS_Store && echo x > rings/Thumbs.db && echo x > stripes/desktop.ini
cp rings/rings_0000.jpg stray.jpg
python -m dlkit.textures /tmp/lopsided --per_class 100 --seed 2 --classes stripes dots >/dev/null
rm /tmp/lopsided/dots/dots_00[1-9]*
