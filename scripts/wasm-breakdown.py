"""Code bytes per crate of a wasm file, from its name section (build without `strip`).

Usage: python3 scripts/wasm-breakdown.py target/wasm32-unknown-unknown/release/halo_edge.wasm [N]
"""
import sys, collections, re
data = open(sys.argv[1], 'rb').read()
def leb(b, i):
    r = s = 0
    while True:
        x = b[i]; i += 1; r |= (x & 0x7f) << s; s += 7
        if x < 0x80: return r, i
i = 8; sections = []
while i < len(data):
    sid = data[i]; i += 1; size, i = leb(data, i); sections.append((sid, i, size)); i += size
imports = 0; code = []; names = {}
for sid, off, size in sections:
    b = data[off:off+size]
    if sid == 2:
        n, j = leb(b, 0)
        for _ in range(n):
            l, j = leb(b, j); j += l; l, j = leb(b, j); j += l
            kind = b[j]; j += 1
            if kind == 0: imports += 1; _, j = leb(b, j)
            elif kind == 1: j += 1; fl, j = leb(b, j); _, j = leb(b, j); j = (leb(b, j)[1] if fl & 1 else j)
            elif kind == 2: fl, j = leb(b, j); _, j = leb(b, j); j = (leb(b, j)[1] if fl & 1 else j)
            elif kind == 3: j += 2
    if sid == 10:
        n, j = leb(b, 0)
        for _ in range(n):
            l, j = leb(b, j); code.append(l); j += l
    if sid == 0:
        l, j = leb(b, 0); nm = b[j:j+l].decode(); j += l
        if nm == 'name':
            while j < len(b):
                sub = b[j]; j += 1; sz, j = leb(b, j); end = j + sz
                if sub == 1:
                    n, k = leb(b, j)
                    for _ in range(n):
                        idx, k = leb(b, k); l, k = leb(b, k); names[idx] = b[k:k+l].decode('utf-8', 'replace'); k += l
                j = end
by = collections.Counter()
for fi, sz in enumerate(code):
    name = names.get(imports + fi, '?')
    crate = '?'
    m = re.match(r'_ZN(\d+)', name)
    if m:
        n = int(m.group(1)); start = m.end(); crate = name[start:start+n]
    elif name.startswith('_R'):
        m2 = re.search(r'Cs[0-9A-Za-z]+_(\d+)', name)
        if m2:
            n = int(m2.group(1)); crate = name[m2.end():m2.end()+n]
    elif '::' in name:
        crate = name.split('::')[0].lstrip('<').split(' ')[0]
    elif name.startswith('__wbg') or name.startswith('__wbindgen'):
        crate = 'wasm-bindgen glue'
    if crate.startswith('_$LT$'):
        m3 = re.match(r'_\$LT\$(\w+?)\.\.', crate)
        crate = m3.group(1) if m3 else crate
    by[crate] += sz
total = sum(code)
print("code bytes", total)
for c, s in by.most_common(int(sys.argv[2]) if len(sys.argv) > 2 else 15): print(f"{s:8d} {100*s/total:5.1f}% {c}")
