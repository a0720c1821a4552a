#!/usr/bin/env python3
# Function lengths in lines, longest first: MIN=60 scripts/function-lengths.py lib tools
# (a brace matcher over C++ with comments and strings blanked: a survey, not a parser).
# With --max N (scripts/check: --max 80 lib tools) it lists the functions over N lines and
# exits 1 if there is one: a function a reader cannot hold is split before it lands.
import re, sys, os
def strip(src):
    out=[];i=0;n=len(src)
    while i<n:
        c=src[i]
        if src.startswith('//',i):
            j=src.find('\n',i); j=n if j<0 else j; out.append(' '*(j-i)); i=j
        elif src.startswith('/*',i):
            j=src.find('*/',i+2); j=n if j<0 else j+2; out.append(re.sub(r'[^\n]',' ',src[i:j])); i=j
        elif src.startswith('R"',i):
            m=re.match(r'R"([^(]*)\(',src[i:]); d=m.group(1); j=src.find(')'+d+'"',i)+len(d)+2
            out.append(re.sub(r'[^\n]',' ',src[i:j])); i=j
        elif c in '"\'':
            j=i+1
            while j<n and src[j]!=c:
                j+= 2 if src[j]=='\\' else 1
            out.append(' '*(j+1-i)); i=j+1
        else: out.append(c); i+=1
    return ''.join(out)
def funcs(path):
    s=strip(open(path,errors='replace').read())
    stack=[] # (kind, start_line, header)
    res=[]; line=1; last=0
    for i,c in enumerate(s):
        if c=='\n': line+=1
        elif c=='{':
            hdr=s[last:i]; h=' '.join(hdr.split())
            outer=[k for k,_,_ in stack]
            if all(k in('ns','class') for k in outer):
                if re.search(r'\b(namespace)\b',h) or h.startswith('extern "C"') or h.endswith('extern'): kind='ns'
                elif re.search(r'\b(class|struct|union|enum)\b[^()]*$',h): kind='class'
                elif '(' in h and not h.rstrip().endswith('=') : kind='fn'
                else: kind='other'
            else: kind='in'
            stack.append((kind,line,h)); last=i+1
        elif c=='}':
            if stack:
                k,l0,h=stack.pop()
                if k=='fn':
                    m=re.search(r'([~\w:<>=!+\-*/\[\]]+)\s*\([^()]*(\([^()]*\)[^()]*)*\)\s*(const)?\s*(noexcept)?\s*(override)?\s*(->\s*[\w:<>]+)?\s*(:.*)?$',h)
                    name=h[-80:]
                    mm=re.findall(r'([~\w:]+(?:operator\S+)?)\s*\(',h)
                    if mm: name=[x for x in mm if x not in('if','for','while','switch','return','sizeof')][0] if [x for x in mm if x not in('if','for','while','switch','return','sizeof')] else mm[0]
                    res.append((line-l0+1,path,l0,name))
            last=i+1
        elif c==';':
            last=i+1
    return res
args=sys.argv[1:]
limit=None
if args[:1]==['--max']:
    limit=int(args[1]); args=args[2:]
files=[]
for root in args:
    for dp,_,fs in os.walk(root):
        for f in fs:
            if f.endswith(('.cpp','.h','.cu','.cuh')): files.append(os.path.join(dp,f))
allf=[]
for f in sorted(files): allf+=funcs(f)
allf.sort(reverse=True)
if limit is not None:
    over=[f for f in allf if f[0]>limit]
    for n,p,l,name in over: print(f'{p}:{l}: {name} is {n} lines (at most {limit}): split it')
    print(f'function-lengths: {len(allf)} functions in {len(files)} files, {len(over)} over {limit} lines')
    sys.exit(1 if over else 0)
for n,p,l,name in allf:
    if n>=int(os.environ.get('MIN','60')): print(f'{n:5d} {p}:{l} {name}')
