/* The per-hit loops of dictionaries/matcher.py, compiled.
 *
 * boundary_hits(folded, raw, values, case_bit, longest, case_ok) -> list of (start, end, value)
 *     The automaton's raw hits (start, end, k) of ``folded`` that start and end on a token
 *     boundary (anywhere but between two alphanumeric characters, str.isalnum), with the
 *     leftmost-longest choice made in the same pass when ``longest`` is true. A hit whose value
 *     has ``case_bit`` set is kept only if ``case_ok(k, start, end, value)`` is true (when
 *     ``case_ok`` is not None). The same results as ``exact_hits`` in Python, which stays the
 *     reference; a test checks that both agree.
 *
 * emit(hits, memo, starts, ends, make_tails, case_ok, match_type) -> list of match_type
 *     The exact matches of ``hits``: offsets mapped through ``starts``/``ends`` (unless both are
 *     None), one per tail ``(case, fields)`` of ``memo[value]`` (``make_tails(value)`` fills the
 *     memo on a miss), where ``case`` is empty or ``case_ok(start, end, case)`` is true. Each is
 *     ``match_type(start, end, *fields)``, a tuple subclass of nine items.
 *
 * fold_ascii(text) -> str
 *     The folded form of an ASCII ``text`` before spaces collapse, in one pass: A-Z lowered and
 *     the nine ASCII control characters that are whitespace (\t \n \v \f \r, \x1c-\x1f)
 *     made spaces; what ``_fold_ascii_py`` in dictionaries/normalize.py gives (the reference, and
 *     a test checks both agree). ValueError for a text that is not ASCII.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static inline int is_alnum_at(int kind, const void *data, Py_ssize_t i) {
    return Py_UNICODE_ISALNUM(PyUnicode_READ(kind, data, i)) != 0;
}

/* 1 where position i of a text of n characters lies between two alphanumerics. */
static inline int inner(int kind, const void *data, Py_ssize_t n, Py_ssize_t i) {
    return i > 0 && i < n && is_alnum_at(kind, data, i - 1) && is_alnum_at(kind, data, i);
}

/* Item i of a list, or NULL with IndexError (never a new reference). */
static inline PyObject *list_item(PyObject *list, Py_ssize_t i) {
    if (i < 0 || i >= PyList_GET_SIZE(list)) {
        PyErr_SetString(PyExc_IndexError, "index out of range");
        return NULL;
    }
    return PyList_GET_ITEM(list, i);
}

/* The Py_ssize_t items of a 3-tuple of ints. */
static int unpack3(PyObject *t, Py_ssize_t out[3]) {
    if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 3) {
        PyErr_SetString(PyExc_TypeError, "expected a tuple of three ints");
        return -1;
    }
    for (int j = 0; j < 3; j++) {
        out[j] = PyLong_AsSsize_t(PyTuple_GET_ITEM(t, j));
        if (out[j] == -1 && PyErr_Occurred()) return -1;
    }
    return 0;
}

static PyObject *boundary_hits(PyObject *self, PyObject *args) {
    PyObject *folded, *raw, *case_ok;
    long long case_bit;
    int longest;
    PyObject *value_seq;
    if (!PyArg_ParseTuple(args, "UO!OLpO", &folded, &PyList_Type, &raw, &value_seq, &case_bit,
                          &longest, &case_ok))
        return NULL;
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(folded) < 0) return NULL;
#endif
    const int kind = PyUnicode_KIND(folded);
    const void *data = PyUnicode_DATA(folded);
    const Py_ssize_t n = PyUnicode_GET_LENGTH(folded);
    const int check_case = case_ok != Py_None;

    /* a list or tuple as it is (the compiled dictionary's is a list); another sequence copied.
     * Its size and items are read anew for each hit: code that case_ok or an __index__ runs may
     * change a list. */
    PyObject *values = PySequence_Fast(value_seq, "values must be a sequence of ints");
    if (values == NULL) return NULL;
    PyObject *hits = PyList_New(0);
    if (hits == NULL) {
        Py_DECREF(values);
        return NULL;
    }
    /* (start, end) of each chosen hit, beside ``hits``, for the leftmost-longest stack. */
    Py_ssize_t cap = 16, size = 0;
    Py_ssize_t *bounds = PyMem_Malloc(sizeof(Py_ssize_t) * 2 * cap);
    if (bounds == NULL) {
        Py_DECREF(hits);
        Py_DECREF(values);
        return PyErr_NoMemory();
    }

    /* ``raw``'s size is read anew too (a list shortened by case_ok ends the loop, as it ends a
     * for loop); the hit and its value are owned while they are used. */
    PyObject *item = NULL, *value = NULL;
    for (Py_ssize_t r = 0; r < PyList_GET_SIZE(raw); r++) {
        item = PyList_GET_ITEM(raw, r);
        Py_INCREF(item);
        Py_ssize_t sek[3];
        if (unpack3(item, sek) < 0) goto error;
        const Py_ssize_t start = sek[0], end = sek[1], k = sek[2];
        if (start < 0 || end > n || start > end) {
            PyErr_SetString(PyExc_ValueError, "hit offsets outside the text");
            goto error;
        }
        if (inner(kind, data, n, start) || inner(kind, data, n, end)) goto next;
        if (k < 0 || k >= PySequence_Fast_GET_SIZE(values)) {
            PyErr_SetString(PyExc_IndexError, "key index out of range");
            goto error;
        }
        value = PySequence_Fast_GET_ITEM(values, k);
        Py_INCREF(value);
        const long long v = PyLong_AsLongLong(value);
        if (v == -1 && PyErr_Occurred()) goto error;
        if ((v & case_bit) && check_case) {
            PyObject *ok = PyObject_CallFunctionObjArgs(case_ok, PyTuple_GET_ITEM(item, 2),
                                                        PyTuple_GET_ITEM(item, 0),
                                                        PyTuple_GET_ITEM(item, 1), value, NULL);
            if (ok == NULL) goto error;
            const int truth = PyObject_IsTrue(ok);
            Py_DECREF(ok);
            if (truth < 0) goto error;
            if (!truth) goto next;
        }
        if (longest && size > 0 && start < bounds[2 * (size - 1) + 1]) {
            Py_ssize_t i = size - 1;
            while (i > 0 && bounds[2 * (i - 1) + 1] > start) i--;
            if (bounds[2 * i] < start) goto next;
            if (PyList_SetSlice(hits, i, size, NULL) < 0) goto error;
            size = i;
        }
        PyObject *hit = PyTuple_Pack(3, PyTuple_GET_ITEM(item, 0), PyTuple_GET_ITEM(item, 1),
                                     value);
        if (hit == NULL) goto error;
        const int failed = PyList_Append(hits, hit);
        Py_DECREF(hit);
        if (failed < 0) goto error;
        if (size == cap) {
            cap *= 2;
            Py_ssize_t *grown = PyMem_Realloc(bounds, sizeof(Py_ssize_t) * 2 * cap);
            if (grown == NULL) {
                PyErr_NoMemory();
                goto error;
            }
            bounds = grown;
        }
        bounds[2 * size] = start;
        bounds[2 * size + 1] = end;
        size++;
    next:
        Py_CLEAR(value);
        Py_CLEAR(item);
    }
    PyMem_Free(bounds);
    Py_DECREF(values);
    return hits;
error:
    Py_XDECREF(value);
    Py_XDECREF(item);
    PyMem_Free(bounds);
    Py_DECREF(hits);
    Py_DECREF(values);
    return NULL;
}

/* The fields of a tail: a Match without its offsets (label, concept_id, matched_term, score,
 * origin, uncertain, link_score). */
enum { N_TAIL_FIELDS = 7, N_MATCH_FIELDS = 2 + N_TAIL_FIELDS };

/* match_type(start, end, *fields) for a tuple subclass of nine items, as tuple.__new__ makes it
 * (no __new__ of the subclass runs). */
static PyObject *new_match(PyTypeObject *match_type, PyObject *start, PyObject *end,
                           PyObject *fields) {
#if PY_VERSION_HEX < 0x030E0000
    PyObject *m = match_type->tp_alloc(match_type, N_MATCH_FIELDS);
    if (m == NULL) return NULL;
#else /* tuples cache their hash from 3.14: let tuple.__new__ initialise the object */
    PyObject *m = PyTuple_New(N_MATCH_FIELDS);
    if (m == NULL) return NULL;
#endif
    Py_INCREF(start);
    PyTuple_SET_ITEM(m, 0, start);
    Py_INCREF(end);
    PyTuple_SET_ITEM(m, 1, end);
    for (int f = 0; f < N_TAIL_FIELDS; f++) {
        PyObject *field = PyTuple_GET_ITEM(fields, f);
        Py_INCREF(field);
        PyTuple_SET_ITEM(m, 2 + f, field);
    }
#if PY_VERSION_HEX >= 0x030E0000
    PyObject *args = PyTuple_Pack(1, m);
    Py_DECREF(m);
    if (args == NULL) return NULL;
    m = PyTuple_Type.tp_new(match_type, args, NULL);
    Py_DECREF(args);
#endif
    return m;
}

static PyObject *emit(PyObject *self, PyObject *args) {
    PyObject *hits, *memo, *starts, *ends, *make_tails, *case_ok;
    PyTypeObject *match_type;
    if (!PyArg_ParseTuple(args, "O!O!OOOOO!", &PyList_Type, &hits, &PyDict_Type, &memo, &starts,
                          &ends, &make_tails, &case_ok, &PyType_Type, &match_type))
        return NULL;
    if (!PyType_IsSubtype(match_type, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "match_type must be a tuple subclass");
        return NULL;
    }
    const int mapped = starts != Py_None && ends != Py_None;
    if (mapped && (!PyList_Check(starts) || !PyList_Check(ends))) {
        PyErr_SetString(PyExc_TypeError, "starts and ends must be lists (or both None)");
        return NULL;
    }
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;

    /* make_tails and case_ok may run code that changes ``hits``: its size is read anew for
     * each hit (a shortened list ends the loop), and the hit is owned while it is used. */
    PyObject *hit = NULL;
    for (Py_ssize_t h = 0; h < PyList_GET_SIZE(hits); h++) {
        hit = PyList_GET_ITEM(hits, h);
        Py_INCREF(hit);
        Py_ssize_t sev[3];
        if (unpack3(hit, sev) < 0) goto error;
        PyObject *value = PyTuple_GET_ITEM(hit, 2);
        PyObject *tails = PyDict_GetItemWithError(memo, value); /* borrowed */
        if (tails == NULL) {
            if (PyErr_Occurred()) goto error;
            PyObject *made = PyObject_CallOneArg(make_tails, value);
            if (made == NULL) goto error;
            Py_DECREF(made); /* make_tails stored it in the memo, which keeps it alive */
            tails = PyDict_GetItemWithError(memo, value);
            if (tails == NULL) {
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_RuntimeError, "make_tails did not fill the memo");
                goto error;
            }
        }
        if (!PyTuple_Check(tails)) {
            PyErr_SetString(PyExc_TypeError, "tails must be a tuple");
            goto error;
        }
        Py_INCREF(tails); /* a case_ok call below may run arbitrary code */
        PyObject *start, *end;
        if (mapped) {
            start = list_item(starts, sev[0]);
            end = list_item(ends, sev[1] - 1);
            if (start == NULL || end == NULL) {
                Py_DECREF(tails);
                goto error;
            }
        } else {
            start = PyTuple_GET_ITEM(hit, 0);
            end = PyTuple_GET_ITEM(hit, 1);
        }
        Py_INCREF(start);
        Py_INCREF(end);
        int failed = 0;
        for (Py_ssize_t t = 0; t < PyTuple_GET_SIZE(tails) && !failed; t++) {
            PyObject *tail = PyTuple_GET_ITEM(tails, t);
            if (!PyTuple_Check(tail) || PyTuple_GET_SIZE(tail) != 2 ||
                !PyTuple_Check(PyTuple_GET_ITEM(tail, 1)) ||
                PyTuple_GET_SIZE(PyTuple_GET_ITEM(tail, 1)) != N_TAIL_FIELDS) {
                PyErr_SetString(PyExc_TypeError, "a tail must be (case, seven fields)");
                failed = 1;
                break;
            }
            PyObject *case_form = PyTuple_GET_ITEM(tail, 0);
            const int has_case = PyObject_IsTrue(case_form);
            if (has_case < 0) {
                failed = 1;
                break;
            }
            if (has_case) {
                PyObject *ok = PyObject_CallFunctionObjArgs(case_ok, start, end, case_form, NULL);
                if (ok == NULL) {
                    failed = 1;
                    break;
                }
                const int truth = PyObject_IsTrue(ok);
                Py_DECREF(ok);
                if (truth < 0) {
                    failed = 1;
                    break;
                }
                if (!truth) continue;
            }
            PyObject *m = new_match(match_type, start, end, PyTuple_GET_ITEM(tail, 1));
            if (m == NULL) {
                failed = 1;
                break;
            }
            failed = PyList_Append(out, m) < 0;
            Py_DECREF(m);
        }
        Py_DECREF(start);
        Py_DECREF(end);
        Py_DECREF(tails);
        if (failed) goto error;
        Py_CLEAR(hit);
    }
    return out;
error:
    Py_XDECREF(hit);
    Py_DECREF(out);
    return NULL;
}

static PyObject *fold_ascii(PyObject *self, PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "fold_ascii() takes a str");
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0) return NULL;
#endif
    if (!PyUnicode_IS_ASCII(text)) {
        PyErr_SetString(PyExc_ValueError, "fold_ascii() takes an ASCII str");
        return NULL;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const Py_UCS1 *src = PyUnicode_1BYTE_DATA(text);
    PyObject *out = PyUnicode_New(n, 127);
    if (out == NULL)
        return NULL;
    Py_UCS1 *dst = PyUnicode_1BYTE_DATA(out);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS1 c = src[i];
        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        else if ((c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f))
            c = ' ';
        dst[i] = c;
    }
    return out;
}

static PyMethodDef methods[] = {
    {"fold_ascii", fold_ascii, METH_O,
     "fold_ascii(text) -> str: an ASCII text lower-cased, its control whitespace made spaces"},
    {"boundary_hits", boundary_hits, METH_VARARGS,
     "boundary_hits(folded, raw, values, case_bit, longest, case_ok) -> [(start, end, value)]"},
    {"emit", emit, METH_VARARGS,
     "emit(hits, memo, starts, ends, make_tails, case_ok, match_type) -> [match_type]"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_matching", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__matching(void) { return PyModule_Create(&module); }
