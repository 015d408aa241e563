#!/usr/bin/env python3
"""Writes a C++ source file that embeds a text file as a std::string_view function."""
import sys

src, out, func = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(src, 'rb').read()
body = ','.join(str(b) for b in data)
with open(out, 'w') as f:
    f.write('#include <string_view>\nnamespace postcore {\n')
    f.write('static const char kData[] = {%s, 0};\n' % body if data else 'static const char kData[] = {0};\n')
    f.write('std::string_view %s() { return {kData, %d}; }\n}\n' % (func, len(data)))
