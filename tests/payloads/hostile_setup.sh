set -e
# A dataset with every kind of trouble in it, next to a clean one (tests/test_hostile.py). The
# 20000x20000 images are uniform, so they are small files; decoding them naively takes 1.2 GB and
# half a minute.
python -m dlkit.textures /tmp/clean --per_class 20 --seed 1 >/dev/null
cp -r /tmp/clean /tmp/ds && cd /tmp/ds
mkdir "Città_del Capo"
for i in $(seq 0 19); do cp "rings/$(ls rings | sed -n "$((i + 1))p")" "Città_del Capo/foto $i ü 写真.jpg"; done
cp dots/dots_0000.jpg "checks/$(printf 'bad\xffname').jpg"
head -c 2000 dots/dots_0001.jpg > checks/truncated.jpg
: > checks/empty.jpg
echo 'not a picture' > checks/notes.png
cp dots/dots_0002.png checks/really-a-png.jpg
python -c "
from PIL import Image
Image.new('1', (20000, 20000)).save('rings/giant.png')
Image.new('RGB', (20000, 20000), (200, 30, 30)).save('rings/giant.jpg', quality=50)"
ln -s . loop
ln -s .. stripes/loop
ln -s a stripes/b && ln -s b stripes/a
ln -s /nowhere dots/broken.jpg
mkdir -p /tmp/elsewhere/more && cp dots/dots_0003.jpg /tmp/elsewhere/more/ && ln -s /tmp/elsewhere/more dots/more
find /tmp/ds /tmp/elsewhere -type f -print0 | sort -z | xargs -0 md5sum > /tmp/dataset.md5
