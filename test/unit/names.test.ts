/** Names a Python candidate uses that nothing defines (engine/src/names.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contextNames, undefinedNames, undefinedNamesAt } from '../../engine/src/names';

const PREFIX = 'import math\nfrom typing import List\n\n\ndef count_primes(xs: List[int]) -> int:\n    """Count the primes in xs, using is_prime if you like."""\n';
const ctx = contextNames(PREFIX);
const undef = (text: string) => undefinedNames(text, ctx);

test('a helper the file never defines, a module never imported: undefined', () => {
  assert.deepEqual(undef('    return sum(1 for x in xs if is_prime(x))\n'), ['is_prime']);
  assert.deepEqual(undef('    return len([x for x in xs if x > 1 and all(x % d for d in range(2, int(np.sqrt(x)) + 1))])\n'), ['np']);
  assert.deepEqual(undef('    total = reduce(lambda a, b: a + b, xs)\n    return total + helper(total)\n'), ['reduce', 'helper']);
});

test('what the context, the candidate or the builtins define is not', () => {
  // The context's imports and parameters; builtins; a local assignment, tuple targets, loop, comprehension and lambda variables.
  assert.deepEqual(undef('    n = 0\n    a, b = 1, 2\n    for x in xs:\n        if x > 1 and all(x % d for d in range(2, math.isqrt(x) + 1)):\n            n += 1\n    f = lambda y: y * a * b\n    return f(n)\n'), []);
  // A helper defined in the candidate (before or after its use), its parameters, imports in the candidate, except/with targets, walrus.
  assert.deepEqual(
    undef('    def is_prime(k, *rest, **kw):\n        return k > 1 and all(k % d for d in range(2, k))\n    import functools as ft\n    from itertools import chain\n    try:\n        with open("x") as fh:\n            pass\n    except ValueError as err:\n        print(err)\n    if (m := len(xs)) > 0:\n        return ft.reduce(max, chain(xs)) + m\n    return sum(map(is_prime, xs))\n'),
    [],
  );
  // Attributes and keyword arguments are not uses; a name defined in the suffix is defined.
  assert.deepEqual(undef('    return sorted(xs, key=abs, reverse=True)[0].real\n'), []);
  assert.deepEqual(undefinedNames('    return helper(xs)\n', contextNames(`${PREFIX}\n\ndef helper(ys):\n    return 0\n`)), []);
});

test('strings, comments and the docstring do not define or use names', () => {
  // `is_prime` appears in the docstring only: still undefined in code.
  assert.deepEqual(undef('    return is_prime(xs[0])  # uses undefined_thing\n'), ['is_prime']);
  assert.deepEqual(undef('    return "is_prime(x) and other_words"\n'), []);
});

test('a star import defines everything; unreadable text is skipped, never fatal', () => {
  assert.equal(contextNames('from helpers import *\n'), null);
  assert.deepEqual(undefinedNames('    return anything(xs)\n', null), []);
  // An unterminated string and a stray character: the rest is still read.
  assert.deepEqual(undef('    s = "broken\n    return ghost(xs) ¤\n'), ['ghost']);
  assert.deepEqual(undef(''), []);
});

test('at the cursor: a candidate that finishes a word or an attribute is read with its line', () => {
  const prefix = `${PREFIX}    return math.`;
  assert.deepEqual(undefinedNamesAt(prefix, 'isqrt(len(xs))\n', contextNames(prefix)), []);
  const mid = `${PREFIX}    return is_pr`;
  // `is_pr` + `ime(...)` is `is_prime`, which nothing defines; `ime` alone is never reported.
  assert.deepEqual(undefinedNamesAt(mid, 'ime(xs[0])\n', contextNames(mid)), ['is_prime']);
  const local = `${PREFIX}    primes = []\n    return len(pri`;
  assert.deepEqual(undefinedNamesAt(local, 'mes)\n', contextNames(local)), []);
});
