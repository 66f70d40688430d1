/* The abbreviation finder of dictionaries/abbreviations.py, compiled.
 *
 * find(text, long_ends) -> list of (long_start, long_end, short_start, short_end), sorted by
 * (short_start, short_end, long_start, long_end), or None when the text holds a character whose
 * lower-casing this code does not reproduce (U+0130, U+03A3): the caller then runs the Python
 * code, which is the reference; a test checks that both agree.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>

#define MAX_REACH 1000
#define MAX_SHORT_CHARS 10

typedef struct {
    int kind;
    const void *data;
    Py_ssize_t len;
} Text;

static inline Py_UCS4 at(const Text *t, Py_ssize_t i) { return PyUnicode_READ(t->kind, t->data, i); }
static inline int is_space(const Text *t, Py_ssize_t i) { return Py_UNICODE_ISSPACE(at(t, i)); }

/* str.find(ch, start, end) for one character (end clamped to the text). */
static Py_ssize_t find_char(const Text *t, Py_UCS4 ch, Py_ssize_t start, Py_ssize_t end) {
    if (end > t->len) end = t->len;
    for (Py_ssize_t i = start; i < end; i++)
        if (at(t, i) == ch) return i;
    return -1;
}

static Py_ssize_t rfind_char(const Text *t, Py_UCS4 ch, Py_ssize_t start, Py_ssize_t end) {
    if (end > t->len) end = t->len;
    if (start < 0) start = 0;
    for (Py_ssize_t i = end - 1; i >= start; i--)
        if (at(t, i) == ch) return i;
    return -1;
}

static Py_ssize_t count_char(const Text *t, Py_UCS4 ch, Py_ssize_t start, Py_ssize_t end) {
    Py_ssize_t n = 0;
    for (Py_ssize_t i = start; i < end; i++) n += at(t, i) == ch;
    return n;
}

/* str.find(a + b, start, end) >= 0 style search of the two-character string "a b". */
static Py_ssize_t find_pair(const Text *t, Py_UCS4 a, Py_UCS4 b, Py_ssize_t start, Py_ssize_t end) {
    if (end > t->len) end = t->len;
    for (Py_ssize_t i = start; i + 1 < end; i++)
        if (at(t, i) == a && at(t, i + 1) == b) return i;
    return -1;
}

static Py_ssize_t alnum_count(const Text *t, Py_ssize_t start, Py_ssize_t end) {
    Py_ssize_t n = 0;
    for (Py_ssize_t i = start; i < end; i++) n += Py_UNICODE_ISALNUM(at(t, i)) != 0;
    return n;
}

/* len(text[start:end].split()) */
static Py_ssize_t word_count(const Text *t, Py_ssize_t start, Py_ssize_t end) {
    Py_ssize_t n = 0;
    int in_word = 0;
    for (Py_ssize_t i = start; i < end; i++) {
        if (is_space(t, i)) in_word = 0;
        else if (!in_word) { in_word = 1; n++; }
    }
    return n;
}

/* str.islower() of text[start:end] */
static int is_lower(const Text *t, Py_ssize_t start, Py_ssize_t end) {
    int cased = 0;
    for (Py_ssize_t i = start; i < end; i++) {
        Py_UCS4 ch = at(t, i);
        if (Py_UNICODE_ISUPPER(ch) || Py_UNICODE_ISTITLE(ch)) return 0;
        if (!cased && Py_UNICODE_ISLOWER(ch)) cased = 1;
    }
    return cased;
}

static int has_upper(const Text *t, Py_ssize_t start, Py_ssize_t end) {
    for (Py_ssize_t i = start; i < end; i++)
        if (Py_UNICODE_ISUPPER(at(t, i))) return 1;
    return 0;
}

/* _is_short_form(text[start:end]) */
static int is_short_form(const Text *t, Py_ssize_t start, Py_ssize_t end) {
    Py_ssize_t n = end - start;
    if (n < 2 || !Py_UNICODE_ISALNUM(at(t, start)) || word_count(t, start, end) > 2) return 0;
    if (n > MAX_SHORT_CHARS && alnum_count(t, start, end) > MAX_SHORT_CHARS) return 0;
    for (Py_ssize_t i = start; i < end; i++)
        if (Py_UNICODE_ISALPHA(at(t, i))) return 1;
    return 0;
}

/* Where the last word of text[start:end] starts (text[end - 1] is not a space). */
static Py_ssize_t last_word_start(const Text *t, Py_ssize_t start, Py_ssize_t end) {
    Py_ssize_t i = end;
    while (i > start && !is_space(t, i - 1)) i--;
    return i;
}

static Py_ssize_t cut_plain(const Text *t, Py_ssize_t start, Py_ssize_t end) {
    Py_ssize_t comma = find_pair(t, ',', ' ', start, end), semi = find_pair(t, ';', ' ', start, end);
    if (comma < 0) return semi < 0 ? end : semi;
    return (semi < 0 || comma < semi) ? comma : semi;
}

static Py_ssize_t cut_nested(const Text *t, Py_ssize_t start, Py_ssize_t end) {
    long depth = 0;
    for (Py_ssize_t i = start; i < end - 1; i++) {
        Py_UCS4 ch = at(t, i);
        if (ch == '(') depth++;
        else if (ch == ')') depth--;
        else if (depth == 0 && (ch == ',' || ch == ';') && at(t, i + 1) == ' ') return i;
    }
    return end;
}

static Py_ssize_t matching_close(const Text *t, Py_ssize_t open_at) {
    Py_ssize_t end = open_at + MAX_REACH, pos = open_at + 1;
    long depth = 1;
    for (;;) {
        Py_ssize_t close_at = find_char(t, ')', pos, end);
        if (close_at < 0) return -1;
        depth += (long)count_char(t, '(', pos, close_at) - 1;
        if (depth == 0) return close_at;
        pos = close_at + 1;
    }
}

/* _short_candidate: 1 and the span in *s, *e; 0 when there is none. */
static int short_candidate(const Text *t, Py_ssize_t open_at, Py_ssize_t *s, Py_ssize_t *e) {
    Py_ssize_t start = open_at + 1, end;
    Py_ssize_t close_at = find_char(t, ')', start, open_at + MAX_REACH);
    if (close_at < 0) return 0;
    if (find_char(t, '(', start, close_at) < 0) {
        end = cut_plain(t, start, close_at);
    } else {
        Py_ssize_t nested = matching_close(t, open_at);
        if (nested < 0) return 0;
        end = cut_nested(t, start, nested);
    }
    while (start < end && is_space(t, start)) start++;
    while (end > start && is_space(t, end - 1)) end--;
    if (start >= end) return 0;
    *s = start;
    *e = end;
    return 1;
}

static Py_ssize_t sentence_start(const Text *t, Py_ssize_t pos) {
    Py_ssize_t reach = pos > MAX_REACH ? pos - MAX_REACH : 0;
    Py_ssize_t start = reach > 2 ? reach - 2 : 0;
    /* the end of the last "[.!?]\s" that lies wholly in text[start:pos] (matches cannot overlap) */
    for (Py_ssize_t i = pos - 2; i >= start; i--) {
        Py_UCS4 ch = at(t, i);
        if ((ch == '.' || ch == '!' || ch == '?') && is_space(t, i + 1)) {
            start = i + 2;
            break;
        }
    }
    return start > reach ? start : reach;
}

static Py_ssize_t enclosing_open(const Text *t, Py_ssize_t start, Py_ssize_t pos) {
    long depth = 0;
    for (;;) {
        Py_ssize_t opened = rfind_char(t, '(', start, pos);
        if (opened < 0) return -1;
        Py_ssize_t closed = rfind_char(t, ')', opened, pos);
        if (closed >= 0) { depth++; pos = closed; }
        else if (depth == 0) return opened;
        else { depth--; pos = opened; }
    }
}

static Py_ssize_t region_start(const Text *t, Py_ssize_t open_at) {
    Py_ssize_t start = sentence_start(t, open_at);
    Py_ssize_t enclosing = enclosing_open(t, start, open_at);
    if (enclosing >= 0) start = enclosing + 1;
    while (start < open_at && is_space(t, start)) start++;
    return start;
}

static inline Py_UCS4 lower(Py_UCS4 ch) { return Py_UNICODE_TOLOWER(ch); }

/* _long_form_start(text[ss:se], text, start, end): -1 when none. */
static Py_ssize_t long_form_start(const Text *t, Py_ssize_t ss, Py_ssize_t se, Py_ssize_t start,
                                  Py_ssize_t end) {
    Py_ssize_t i = end; /* absolute: the character found last */
    for (Py_ssize_t k = se - 1; k > ss; k--) {
        Py_UCS4 ch = lower(at(t, k));
        if (Py_UNICODE_ISALNUM(ch)) {
            Py_ssize_t j = i - 1;
            while (j >= start && lower(at(t, j)) != ch) j--;
            if (j < start) return -1;
            i = j;
        }
    }
    Py_UCS4 ch = lower(at(t, ss));
    if (Py_UNICODE_ISALNUM(ch)) {
        Py_ssize_t j = i - 1;
        for (;;) {
            while (j >= start && lower(at(t, j)) != ch) j--;
            if (j > start && Py_UNICODE_ISALNUM(lower(at(t, j - 1)))) { j--; continue; }
            break;
        }
        if (j < start) return -1;
        i = j;
    } else {
        i -= 1;
    }
    while (i > start && !is_space(t, i - 1)) i--;
    return i;
}

/* text[a:a+n] == text[b:b+n] */
static int same(const Text *t, Py_ssize_t a, Py_ssize_t b, Py_ssize_t n) {
    for (Py_ssize_t k = 0; k < n; k++)
        if (at(t, a + k) != at(t, b + k)) return 0;
    return 1;
}

typedef struct { Py_ssize_t long_start, long_end, short_start, short_end; } Pair;

/* _pair: 1 and *out when the definition is valid. */
static int make_pair(const Text *t, Py_ssize_t ss, Py_ssize_t se, Py_ssize_t rs, Py_ssize_t re,
                     Pair *out) {
    Py_ssize_t ls = long_form_start(t, ss, se, rs, re);
    if (ls < 0) return 0;
    Py_ssize_t n = se - ss, m = re - ls;
    Py_ssize_t letters = alnum_count(t, ss, se);
    if (m < n) return 0;
    /* short_form + " " in long_form */
    for (Py_ssize_t i = ls; i + n + 1 <= re; i++)
        if (at(t, i + n) == ' ' && same(t, i, ss, n)) return 0;
    if (same(t, re - n, ss, n)) return 0; /* long_form.endswith(short_form) */
    if (word_count(t, ls, re) > (letters <= 5 ? 2 * letters : letters + 5)) return 0;
    if (count_char(t, '(', ls, re) != count_char(t, ')', ls, re)) return 0;
    out->long_start = ls;
    out->long_end = re;
    out->short_start = ss;
    out->short_end = se;
    return 1;
}

/* -1 error, 0 not in, 1 in; long_ends NULL means "any". */
static int in_ends(PyObject *long_ends, Py_ssize_t v) {
    if (long_ends == NULL) return 1;
    PyObject *n = PyLong_FromSsize_t(v);
    if (n == NULL) return -1;
    int r = PySequence_Contains(long_ends, n);
    Py_DECREF(n);
    return r;
}

/* _definition_at: 1 and *out, 0 none, -1 error. */
static int definition_at(const Text *t, Py_ssize_t open_at, PyObject *long_ends, Pair *out) {
    Py_ssize_t is, ie;
    if (!short_candidate(t, open_at, &is, &ie)) return 0;
    Py_ssize_t reach = open_at > MAX_REACH ? open_at - MAX_REACH : 0;
    Py_ssize_t before_end = open_at - 1;
    while (before_end > reach && is_space(t, before_end - 1)) before_end--;
    if (before_end == reach) return 0;
    if (long_ends != NULL) {
        int a = in_ends(long_ends, before_end);
        if (a < 0) return -1;
        if (!a) {
            int b = in_ends(long_ends, ie);
            if (b < 0) return -1;
            if (!b) return 0;
        }
    }
    int candidate_is_short = is_short_form(t, is, ie);
    Py_ssize_t word = last_word_start(t, reach, before_end);
    if (!candidate_is_short && is_lower(t, word, before_end)) return 0;
    Py_ssize_t bs = region_start(t, open_at);
    if (bs >= before_end) return 0;
    if (ie - is > before_end - bs || (!candidate_is_short && word_count(t, is, ie) > 2)) {
        Py_ssize_t ws = word < bs ? bs : word;
        if (!has_upper(t, ws, before_end) || !is_short_form(t, ws, before_end)) return 0;
        return make_pair(t, ws, before_end, is, ie, out);
    }
    if (!candidate_is_short) return 0;
    return make_pair(t, is, ie, bs, before_end, out);
}

static int by_short_form(const void *x, const void *y) {
    const Pair *a = x, *b = y;
    if (a->short_start != b->short_start) return a->short_start < b->short_start ? -1 : 1;
    if (a->short_end != b->short_end) return a->short_end < b->short_end ? -1 : 1;
    if (a->long_start != b->long_start) return a->long_start < b->long_start ? -1 : 1;
    if (a->long_end != b->long_end) return a->long_end < b->long_end ? -1 : 1;
    return 0;
}

static PyObject *find(PyObject *self, PyObject *args) {
    PyObject *text, *long_ends;
    if (!PyArg_ParseTuple(args, "UO", &text, &long_ends)) return NULL;
    if (long_ends == Py_None) long_ends = NULL;
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0) return NULL;
#endif
    Text t = {PyUnicode_KIND(text), PyUnicode_DATA(text), PyUnicode_GET_LENGTH(text)};
    if (!PyUnicode_IS_ASCII(text)) {
        for (Py_ssize_t i = 0; i < t.len; i++) {
            Py_UCS4 ch = at(&t, i);
            if (ch == 0x130 || ch == 0x3A3) Py_RETURN_NONE;
        }
    }
    Pair *pairs = NULL;
    Py_ssize_t n = 0, cap = 0;
    Py_ssize_t open_at = find_char(&t, '(', 1, t.len);
    while (open_at >= 0) {
        if (is_space(&t, open_at - 1)) {
            Pair p;
            int r = definition_at(&t, open_at, long_ends, &p);
            if (r < 0) { free(pairs); return NULL; }
            if (r > 0) {
                int keep = in_ends(long_ends, p.long_end);
                if (keep < 0) { free(pairs); return NULL; }
                if (keep) {
                    if (n == cap) {
                        cap = cap ? 2 * cap : 8;
                        Pair *grown = realloc(pairs, cap * sizeof(Pair));
                        if (grown == NULL) { free(pairs); return PyErr_NoMemory(); }
                        pairs = grown;
                    }
                    pairs[n++] = p;
                }
            }
        }
        open_at = find_char(&t, '(', open_at + 1, t.len);
    }
    if (n > 1) qsort(pairs, n, sizeof(Pair), by_short_form);
    PyObject *out = PyList_New(0);
    for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
        if (i > 0 && by_short_form(&pairs[i - 1], &pairs[i]) == 0) continue; /* the same pair */
        PyObject *item = Py_BuildValue("(nnnn)", pairs[i].long_start, pairs[i].long_end,
                                       pairs[i].short_start, pairs[i].short_end);
        if (item == NULL || PyList_Append(out, item) < 0) { Py_XDECREF(item); Py_CLEAR(out); break; }
        Py_DECREF(item);
    }
    free(pairs);
    return out;
}

static PyMethodDef methods[] = {
    {"find", find, METH_VARARGS,
     "find(text, long_ends) -> sorted (long_start, long_end, short_start, short_end) tuples, or "
     "None for a text the Python code must handle."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_abbreviations", NULL, -1, methods};

PyMODINIT_FUNC PyInit__abbreviations(void) { return PyModule_Create(&module); }
