#!/usr/bin/env python3
"""
Golden token ids for zs's CLIP tokenizer (src/text), computed the way OpenAI's CLIP does it.

This re-states the logic of openai/CLIP `clip/simple_tokenizer.py` (SimpleTokenizer.encode plus
`clip.tokenize`'s BOS/EOS framing) in Python with the same `regex` module, on the vocabulary of
/work/shared/tools/clip-vocab (vocab.json + merges.txt). It checks first that the vocabulary
SimpleTokenizer would build from merges.txt is exactly vocab.json, and exactly the model.vocab /
model.merges of test/fixtures/tiny-random-clip/tokenizer.json.

ftfy is not installable here. SimpleTokenizer runs `ftfy.fix_text` first, so every case carries the
text ftfy returns for it:
  - `ftfy` given in the case list: written by hand, derived from ftfy 6.3's source (fix_text /
    fix_and_explain and the individual fixers); each such case says which fixer acts (or, for
    entity-like text ftfy does not know, that it stays);
  - otherwise the case must be "ftfy-inert" apart from NFC (ftfy's last step), which `assert_inert`
    checks conservatively (no entity-like text, no character that a fixer touches, nothing that could
    read as UTF-8 mojibake in any of ftfy's single-byte encodings); then ftfy's output is NFC(text).
Everything after ftfy (html.unescape twice, strip, \\s+ collapse, str.lower, the pre-token regex,
byte-level BPE) is computed here by the real Python functions.

It also writes:
  - per code point, the class the pre-token regex puts it in (run-length encoded), and Python's
    str.lower for every code point it changes, so the TypeScript side can be checked on all of Unicode;
  - src/text/html-entities.json: Python's html5 entity table and html.unescape's invalid-charref data
    (the data html.unescape uses), for src/text/html.ts.

Usage: python3 scripts/make-token-goldens.py   (from the repository root; writes both files)
"""
import html
import html.entities
import json
import sys
import unicodedata
from pathlib import Path

import regex as re

ROOT = Path(__file__).resolve().parent.parent
VOCAB_DIR = Path('/work/shared/tools/clip-vocab')
FIXTURE_TOKENIZER = ROOT / 'test/fixtures/tiny-random-clip/tokenizer.json'
OUT_GOLDENS = ROOT / 'test/fixtures/token-goldens.json'
OUT_ENTITIES = ROOT / 'src/text/html-entities.json'

# The pre-token pattern of simple_tokenizer.py, compiled as there (regex module, IGNORECASE).
PAT = re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", re.IGNORECASE)


def bytes_to_unicode():
    """GPT-2 / CLIP byte -> printable character table."""
    bs = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


class SimpleTokenizer:
    """SimpleTokenizer's encode without ftfy (the caller passes ftfy's output)."""

    def __init__(self, merges_path):
        self.byte_encoder = bytes_to_unicode()
        merges = merges_path.read_text(encoding='utf-8').split('\n')
        merges = merges[1:49152 - 256 - 2 + 1]
        merges = [tuple(m.split()) for m in merges]
        vocab = list(self.byte_encoder.values())
        vocab = vocab + [v + '</w>' for v in vocab]
        vocab.extend(''.join(m) for m in merges)
        vocab.extend(['<|startoftext|>', '<|endoftext|>'])
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.merges = merges
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.cache = {'<|startoftext|>': '<|startoftext|>', '<|endoftext|>': '<|endoftext|>'}
        self.sot = self.encoder['<|startoftext|>']
        self.eot = self.encoder['<|endoftext|>']

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + '</w>',)
        pairs = set(zip(word, word[1:]))
        if not pairs:
            return token + '</w>'
        while True:
            bigram = min(pairs, key=lambda p: self.bpe_ranks.get(p, float('inf')))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word, i = [], 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    new_word.extend(word[i:])
                    break
                new_word.extend(word[i:j])
                i = j
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = set(zip(word, word[1:]))
        out = ' '.join(word)
        self.cache[token] = out
        return out

    def clean(self, ftfy_fixed):
        """basic_clean after ftfy, whitespace_clean, lower (as SimpleTokenizer.encode)."""
        text = html.unescape(html.unescape(ftfy_fixed)).strip()
        text = re.sub(r'\s+', ' ', text).strip()
        return text.lower()

    def encode(self, ftfy_fixed):
        ids = []
        for token in re.findall(PAT, self.clean(ftfy_fixed)):
            token = ''.join(self.byte_encoder[b] for b in token.encode('utf-8'))
            ids.extend(self.encoder[t] for t in self.bpe(token).split(' '))
        return [self.sot] + ids + [self.eot]


# ---- cases ---------------------------------------------------------------------------------------
# (text, ftfy output or None when the text is ftfy-inert apart from NFC, note)
NFD_CAFE = 'cafe\u0301'
CASES = [
    # accents, Latin scripts
    ('café', None, 'accent'), ('naïve résumé', None, 'accents'), ('Crème Brûlée', None, 'accents'),
    ('Ångström', None, 'ring'), ('Zürich São Paulo', None, 'accents'), ('Łódź Dvořák', None, 'Polish/Czech'),
    ('Ærøskøbing', None, 'Danish'), ('straße', None, 'sharp s'), ('ẞ STRASSE', None, 'capital sharp s lowercases to ß'),
    (NFD_CAFE, None, 'NFD input: ftfy NFC-normalizes'), ('a\u0308\u0301', None, 'NFC composes a+diaeresis, acute stays'),
    ('\u1100\u1161\u11a8', None, 'conjoining jamo: NFC to one syllable'),
    # CJK
    ('東京タワー', None, 'CJK'), ('北京欢迎你', None, 'Chinese'), ('한국어 텍스트', None, 'Hangul'),
    ('日本語のテキストです。', None, 'Japanese with ideographic full stop'),
    # emoji
    ('😀', None, 'emoji'), ('👍🏽 thumbs up', None, 'skin tone'), ('👨‍👩‍👧‍👦', None, 'ZWJ family'),
    ('🇯🇵 flag', None, 'regional indicators'), ('I ❤️ NY', None, 'heart + VS16'), ('🏳️‍🌈', None, 'ZWJ flag'),
    ('cat🐱dog🐶', None, 'emoji between letters'),
    # other scripts
    ('مرحبا بالعالم', None, 'Arabic'), ('مَرْحَبًا', None, 'Arabic with harakat (marks)'), ('שָׁלוֹם', None, 'Hebrew points'),
    ('नमस्ते दुनिया', None, 'Devanagari'), ('हिन्दी', None, 'Devanagari virama'), ('Привет мир', None, 'Cyrillic'),
    ('Ελληνικά', None, 'Greek'), ('ΟΔΟΣ', None, 'final sigma on lower()'), ('ΣΑΣ. Σ', None, 'final sigma contexts'),
    ('ไทย', None, 'Thai'), ('ქართული', None, 'Georgian'), ('𝐇𝐞𝐥𝐥𝐨 𝔀𝓸𝓻𝓵𝓭', None, 'math alphanumerics (non-BMP letters)'),
    # combining marks
    ('\u0301', None, 'lone combining acute'), ('e\u0301\u0302\u0303', None, 'stacked marks'),
    ('Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇', None, 'zalgo'), ('a\u0345b', None, 'U+0345 matches no pre-token class: dropped'),
    ('ᾳ ᾼ', None, 'letters with ypogegrammeni'), ('n\u0303o', None, 'NFC to ño'),
    # punctuation
    ('!!!', None, 'run'), ('?!?!...', None, 'run'), ('— – -- ---', None, 'dashes'), ('a.b.c', None, 'dots'),
    ('(parenthesized) [brackets] {braces}', None, 'brackets'), ('#hashtag @mention', None, 'symbols'),
    ('C++ & C#', None, 'ampersand without entity'), ('$100 50% 3/4', None, 'symbols and digits'),
    ('a/b\\c|d', None, 'slashes'), ('"double" and \'single\'', None, 'ASCII quotes'),
    ('email@example.com https://example.com/path?q=1&r=2', None, 'url, & with no entity'),
    ('«guillemets» ‹single›', None, 'not uncurled by ftfy'), ('¿Qué? ¡Sí!', None, 'Spanish'),
    ('a photo of a {}.', None, 'template'), ('…', None, 'ellipsis char'), ('</w>', None, 'end-of-word marker text'),
    # contractions and case
    ("DON'T", None, 'upper contraction'), ("don't", None, 'contraction'), ("IT'S it's", None, "'s"),
    ("we're You'll I'd I'M they've", None, 'all contractions'), ("rock 'n' roll o'clock", None, 'apostrophes'),
    ("it'ſ", None, "long s: 's with IGNORECASE matches 'ſ"), ("'s", None, 'bare contraction'),
    ('HELLO World MiXeD', None, 'case'), ('İstanbul', None, 'dotted capital I lowers to i + U+0307'),
    ('\u212a\u2126\u212b', None, 'Kelvin/Ohm/Angstrom signs: NFC singletons'),
    # numbers
    ('3.14', None, 'decimal'), ('1,000,000', None, 'thousands'), ('2024-01-31', None, 'date'),
    ('١٢٣ ٣.١٤', None, 'Arabic-Indic digits'), ('½ ² Ⅻ', None, 'other numbers'), ('10³', None, 'superscript'),
    ('0x1F 1e-9', None, 'hex, exponent'), ('12345678901234567890', None, 'long number'),
    # whitespace
    ('  leading and trailing  ', None, 'strip'), ('a\tb', None, 'tab'), ('a\nb', None, 'newline'),
    ('multiple     spaces', None, 'space run'), ('a\u00a0b', None, 'NBSP is \\s'), ('a\u2009b\u202fc', None, 'thin spaces'),
    ('a\u200bb', None, 'ZWSP is not \\s'), ('a\u180eb', None, 'Mongolian vowel separator is not \\s'),
    ('a\x0cb', None, 'form feed kept by ftfy, \\s'), ('\u1680a\u205fb\u2007', None, 'other unicode spaces'),
    ('', None, 'empty'), ('   ', None, 'only spaces'), ('\t\n', None, 'only tab+newline'), ('\u00a0\u2003', None, 'only unicode spaces'),
    # ftfy: line breaks, controls, terminal escapes (fixers named)
    ('a\r\nb\rc', 'a\nb\nc', 'fix_line_breaks'), ('a\u2028b\u2029c', 'a\nb\nc', 'fix_line_breaks'),
    ('c\u0085d', 'c…d', 'fix_c1_controls runs before fix_line_breaks: NEL becomes …'),
    ('a\u3000b', 'a b', 'fix_character_width: ideographic space'), ('a\x00b\x07c\x7fd', 'abcd', 'remove_control_chars'),
    ('a\x0bb', 'ab', 'remove_control_chars removes VT'), ('a\x1cb\x1fc', 'abc', 'remove_control_chars'),
    ('a\ufeffb', 'ab', 'remove_control_chars: BOM'), ('a\u206ab\ufff9c', 'abc', 'remove_control_chars'),
    ('a\u200db\u2066c', None, 'ZWJ and LRI are kept by ftfy'),
    ('\x1b[31mred\x1b[0m text', 'red text', 'remove_terminal_escapes'),
    ('a\x80b', 'a€b', 'C1 control read as windows-1252'), ('a\x81b', None, 'undefined windows-1252 byte: C1 kept'),
    ('a\ud83db', 'a\ufffdb', 'fix_surrogates: lone surrogate'),
    # ftfy: quotes, ligatures, width
    ('“Hello,” she said.', '"Hello," she said.', 'uncurl_quotes'), ('‘single’ ‛x‚', "'single' 'x'", 'uncurl_quotes: U+2018-201B'),
    ('it’s DON’T', "it's DON'T", 'uncurl_quotes then contraction'), ('„German“', '"German"', 'uncurl_quotes: U+201E'),
    ('ʼokina', "'okina", 'uncurl_quotes: U+02BC'), ('″ ‶', None, 'primes are not quotes'),
    ('ﬁsh ﬂour ﬀ ﬃ ﬄ', 'fish flour ff ffi ffl', 'fix_latin_ligatures'), ('ﬅ ﬆ', 'ſt st', 'fix_latin_ligatures: long s kept'),
    ('ĳs Ĳ ǅ ǈ ǋ ǲ ŉ', "ijs IJ Dž Lj Nj Dz 'n", 'fix_latin_ligatures: digraphs; ŉ -> ʼn, whose ʼ uncurl_quotes then straightens'), ('Œuvre æ', None, 'not ligatures for ftfy'),
    ('ＬＯＵＤ　ＮＯＩＳＥＳ', 'LOUD NOISES', 'fix_character_width'), ('ｈｅｌｌｏ！ １２３', 'hello! 123', 'fix_character_width'),
    ('ｶﾀｶﾅ ｶﾞｷﾞ', 'カタカナ ガギ', 'fix_character_width + NFC composes dakuten'), ('￥100 ￦', '¥100 ₩', 'fix_character_width: signs'),
    # HTML entities: ftfy's unescape (only with ';', repeated to a fixed point, off once a line has '<'),
    # then html.unescape twice (computed here)
    ('&amp;', '&', 'unescape_html'), ('&lt;b&gt;', '<b>', 'unescape_html (no literal <)'), ('Tom &amp; Jerry', 'Tom & Jerry', 'unescape_html'),
    ('&quot;hi&quot; &#39;q&#39; &#x27;', '"hi" \'q\' \'', 'unescape_html: named and numeric'),
    ('&eacute;t&eacute;', 'été', 'unescape_html'), ('&EACUTE;', 'É', "ftfy's uppercase entity names"),
    ('&AMP; &Amp;', '& &Amp;', 'AMP; is html5; Amp; is not'), ('&amp;amp;amp;', '&', 'ftfy repeats until nothing changes'),
    ('<b>bold</b> &amp;amp;', None, "literal '<': ftfy leaves entities; html.unescape twice gives '&'"),
    ('&amp;amp;amp;\n<i>', '&\n<i>', "ftfy unescapes lines before the first '<'"),
    ('<i>\n&amp;amp;amp;', None, "ftfy's '<' switch sticks for later lines: html.unescape twice leaves &amp;"),
    ('&nbsp;', '\u00a0', 'becomes NBSP, stripped'), ('a&nbsp;b', 'a\u00a0b', 'NBSP collapses to space'),
    ('&hellip; &mdash;', '… —', 'unescape_html'), ('&#128512;', '😀', 'numeric astral'), ('&#0;', '\ufffd', 'NUL charref'),
    ('&#x80;', '€', 'windows-1252 charref'), ('&copy 2024', None, "no ';': html.unescape's prefix rule gives ©"),
    ('a&copy=3', None, 'prefix match before ='), ('&notit;', '&notit;', "not an entity for ftfy; html.unescape: longest prefix 'not'"),
    ('&unknown;', '&unknown;', 'unknown entity stays'), ('&#65', None, "numeric without ';'"), ('a &lt; b', 'a < b', 'unescape_html'),
    ('&#9;tab', '\ttab', 'unescape_html: tab, stripped'), ('&#x110000; &#xD800;', '\ufffd \ufffd', 'invalid code points'),
    ('&#1;x', 'x', 'invalid charref removed'), ('&amp;lt;', '<', 'two rounds'),
    # mojibake that ftfy repairs (UTF-8 read as windows-1252 / Latin-1; ftfy docs and common cases)
    ('schÃ¶n', 'schön', 'mojibake'), ('sÃ³', 'só', 'mojibake'), ('cafÃ©', 'café', 'mojibake'), ('Ã©tÃ©', 'été', 'mojibake'),
    ('âœ” No problems', '✔ No problems', 'mojibake, 3-byte'), ('donâ€™t', "don't", 'mojibake then uncurl_quotes'),
    ('â€œquotedâ€\x9d', '"quoted"', 'mojibake with C1 byte, then uncurl'), ('ÐŸÑ€Ð¸Ð²ÐµÑ‚', 'Привет', 'Cyrillic mojibake'),
    ('&macr;\\_(ã\x83\x84)_/&macr;', '¯\\_(ツ)_/¯', 'entities and mojibake (ftfy docstring)'),
    # special tokens written in the text
    ('<|startoftext|>', None, 'special token text'), ('a <|endoftext|> b', None, 'special token inside'),
    ('<|ENDOFTEXT|>', None, 'lowercased first'), ('<|ſtartoftext|>', None, 'matches the pattern, not the special'),
    ('<|endoftext', None, 'partial'),
    # long
    ('a photo of ' * 30, None, '>77 tokens'), ('supercalifragilisticexpialidocious', None, 'long word'),
    ('a' * 60, None, 'one letter repeated'), ('🐱' * 40, None, 'emoji run, many tokens'),
    ('The quick brown fox jumps over the lazy dog. ' * 8, None, 'long sentence'),
]


def single_byte_codecs():
    return ['latin-1', 'windows-1252', 'windows-1251', 'windows-1250', 'windows-1253', 'windows-1254',
            'windows-1257', 'iso-8859-2', 'mac-roman', 'cp437']


def assert_inert(text):
    """Raises when ftfy could change `text` by more than NFC (conservative: may refuse inert text)."""
    for line in text.split('\n'):
        if '<' in line:
            break  # ftfy leaves entities alone from the first line that has a literal '<'
        if re.search(r'&#?[0-9A-Za-z]{1,24};', line):
            raise ValueError(f'{text!r}: has an entity; give the ftfy output')
    touched = re.compile('[\x00-\x08\x0b\x0d-\x1f\x7f-\x9f\u02bc\u2018-\u201f\u2028\u2029\u206a-\u206f\ufeff'
                         '\ufff9-\ufffc\u3000\uff01-\uffef\ud800-\udfff\u0132\u0133\u0149\u01c4-\u01cc\u01f1-\u01f3'
                         '\ufb00-\ufb06\x1b]')
    bad = [c for c in text if touched.match(c) and c not in '\x81\x8d\x8f\x90\x9d']
    if bad:
        raise ValueError(f'{text!r}: ftfy fixer would touch {bad!r}; give the ftfy output')
    for codec in single_byte_codecs():
        try:
            raw = text.encode(codec)
        except UnicodeEncodeError:
            raw = None
        if raw is not None and any(b >= 0x80 for b in raw):
            try:
                raw.decode('utf-8')
                raise ValueError(f'{text!r}: reads as UTF-8 mojibake in {codec}; give the ftfy output')
            except UnicodeDecodeError:
                pass
        # substrings that look like UTF-8 read as this codec (what decode_inconsistent_utf8 looks for)
        lead = continuation = ''
        for b in range(0x80, 0x100):
            try:
                ch = bytes([b]).decode(codec)
            except UnicodeDecodeError:
                continue
            if 0xC2 <= b <= 0xF4:
                lead += ch
            elif b <= 0xBF:
                continuation += ch
        if re.search(f'[{re.escape(lead)}][{re.escape(continuation)}]', text):
            raise ValueError(f'{text!r}: has a UTF-8-like pair in {codec}; give the ftfy output')


def class_runs():
    """Pre-token class per code point (0 none, 1 \\s, 2 letter run, 3 digit, 4 other), run-length encoded."""
    tests = [(1, re.compile(r'\s')), (2, re.compile(r'[\p{L}]', re.IGNORECASE)), (3, re.compile(r'[\p{N}]', re.IGNORECASE)),
             (4, re.compile(r'[^\s\p{L}\p{N}]', re.IGNORECASE))]
    runs, prev = [], None
    for cp in range(0x110000):
        ch = chr(cp)
        k = next((k for k, r in tests if r.match(ch)), 0)
        if k != prev:
            runs.append([cp, k])
            prev = k
    return runs


def main():
    tok = SimpleTokenizer(VOCAB_DIR / 'merges.txt')
    vocab = json.loads((VOCAB_DIR / 'vocab.json').read_text(encoding='utf-8'))
    assert tok.encoder == vocab, 'vocab built from merges.txt differs from vocab.json'
    fixture = json.loads(FIXTURE_TOKENIZER.read_text(encoding='utf-8'))
    assert fixture['model']['vocab'] == vocab, 'fixture tokenizer.json vocab differs'
    fmerges = [m if isinstance(m, str) else ' '.join(m) for m in fixture['model']['merges']]
    assert fmerges == [' '.join(m) for m in tok.merges], 'fixture tokenizer.json merges differ'

    cases = []
    for text, ftfy_out, note in CASES:
        if ftfy_out is None:
            assert_inert(text)
            ftfy_out = unicodedata.normalize('NFC', text)
        case = {'text': text, 'note': note}
        if ftfy_out != text:
            case['ftfy'] = ftfy_out
        case['clean'] = tok.clean(ftfy_out)
        case['ids'] = tok.encode(ftfy_out)
        cases.append(case)

    lower = {str(cp): chr(cp).lower() for cp in range(0x110000) if chr(cp).lower() != chr(cp)}
    assigned_ranges, start = [], None
    for cp in range(0x110001):
        ok = cp < 0x110000 and unicodedata.category(chr(cp)) != 'Cn'
        if ok and start is None:
            start = cp
        elif not ok and start is not None:
            assigned_ranges.append([start, cp - 1])
            start = None
    goldens = {
        'source': 'scripts/make-token-goldens.py: openai/CLIP simple_tokenizer.py logic (Python regex module) on '
                  '/work/shared/tools/clip-vocab; ftfy output hand-derived where a fixer acts (see note), else NFC',
        'python': sys.version.split()[0], 'unidata': unicodedata.unidata_version, 'regex': re.__version__,
        'bos': tok.sot, 'eos': tok.eot,
        'cases': cases,
        'classRuns': class_runs(),
        'lower': lower,
        'assignedRanges': assigned_ranges,
    }
    OUT_GOLDENS.write_text(json.dumps(goldens, ensure_ascii=True, separators=(',', ':')) + '\n', encoding='utf-8')

    invalid_points = sorted(html._invalid_codepoints)
    entities = {
        'source': f'Python {sys.version.split()[0]} html.entities.html5 and html._invalid_charrefs / _invalid_codepoints '
                  '(the tables html.unescape uses); written by scripts/make-token-goldens.py',
        'html5': html.entities.html5,
        'invalidCharrefs': {str(k): v for k, v in html._invalid_charrefs.items()},
        'invalidCodepoints': invalid_points,
    }
    OUT_ENTITIES.write_text(json.dumps(entities, ensure_ascii=True, separators=(',', ':')) + '\n', encoding='utf-8')
    print(f'{len(cases)} cases -> {OUT_GOLDENS.relative_to(ROOT)}; {len(html.entities.html5)} entities -> '
          f'{OUT_ENTITIES.relative_to(ROOT)}')


if __name__ == '__main__':
    main()
