#!/usr/bin/env python3
# Fails when app/'s modules depend on one another in a cycle: every `#include "x.h"` between
# app/ files is an edge (a call needs its header), strongly connected components are printed.
# Usage: scripts/check-app-deps.py [SRC_DIR] [-g]   (-g also prints the graph)
import re,os,sys,collections
d=os.path.join(next((a for a in sys.argv[1:] if not a.startswith('-')), '.'), 'app')
mods=set(f[:-2] for f in os.listdir(d) if f.endswith(('.c','.h')))
g=collections.defaultdict(set)
for f in os.listdir(d):
    if not f.endswith(('.c','.h')): continue
    m=f[:-2]
    for inc in re.findall(r'#include "([a-z_0-9]+)\.h"', open(os.path.join(d,f)).read()):
        if inc!=m and inc in mods: g[m].add(inc)
# tarjan
index={};low={};st=[];on=set();sccs=[];i=[0]
sys.setrecursionlimit(10000)
def sc(v):
    index[v]=low[v]=i[0];i[0]+=1;st.append(v);on.add(v)
    for w in g[v]:
        if w not in index: sc(w);low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],index[w])
    if low[v]==index[v]:
        c=[]
        while True:
            w=st.pop();on.discard(w);c.append(w)
            if w==v:break
        sccs.append(c)
for v in sorted(mods):
    if v not in index: sc(v)
cycles=[c for c in sccs if len(c)>1]
for c in cycles: print("CYCLE:",sorted(c))
if '-g' in sys.argv:
    for m in sorted(mods): print(m,'->',' '.join(sorted(g[m])))
sys.exit(1 if cycles else 0)
