/* The short-form step of pipelines/silver/labeling.py (``_with_abbreviations``), compiled.
 *
 * short_form_spans(text, spans, pairs, exact, heldout, abbreviation, match_type)
 *     -> (labelled, added)
 *
 * ``spans``: the document's spans so far (tuples of the span fields: start, end, label,
 * concept_id, matched_term, score, origin, uncertain, link_score). ``pairs``: the abbreviation
 * definitions (long_start, long_end, short_start, short_end). ``exact``: the long-form rule
 * ("exact": a span with the long form's extent; else the spans that end there and start first).
 * ``heldout`` and ``abbreviation``: the two origin strings. Returns how many definitions had a
 * labelled long form, and the short-form spans to add, sorted by (start, -end, label),
 * leftmost-longest among themselves and overlapping none of ``spans``; each added span's
 * link_score is 1.0 when it carries a concept id, else 0.0. The Python code stays the
 * reference; a test checks that both agree.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdlib.h>

enum {
    F_START, F_END, F_LABEL, F_CONCEPT, F_TERM, F_SCORE, F_ORIGIN, F_UNCERTAIN, F_LINK_SCORE,
    N_FIELDS
};

typedef struct {
    Py_ssize_t start, end;
} Extent;

typedef struct {
    Py_ssize_t start, end;
    Py_ssize_t seq;  /* the order it was made in */
    PyObject *match; /* owned */
} Candidate;

static int by_start(const void *a, const void *b) {
    const Extent *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

/* (start, -end, label), without comparing labels here (a comparator cannot stop qsort with an
 * error): candidates of one extent are occurrences of one short form, made label by label in
 * sorted order (sorted_labels), so the order they were made in is their label order. */
static int by_position(const void *a, const void *b) {
    const Candidate *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end > y->end ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int field_ssize(PyObject *tuple, int i, Py_ssize_t *out) {
    *out = PyLong_AsSsize_t(PyTuple_GET_ITEM(tuple, i));
    return (*out == -1 && PyErr_Occurred()) ? -1 : 0;
}

static int check_tuple(PyObject *t, Py_ssize_t size, const char *what) {
    if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != size) {
        PyErr_Format(PyExc_TypeError, "%s must be tuples of %zd items", what, size);
        return -1;
    }
    return 0;
}

/* Is [start, end) overlapping the union of ``extents`` (sorted by start; reach[i] is the
 * furthest end among extents[0..i])? */
static int overlaps(const Extent *extents, const Py_ssize_t *reach, Py_ssize_t n,
                    Py_ssize_t start, Py_ssize_t end) {
    Py_ssize_t lo = 0, hi = n; /* first extent whose start >= end */
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (extents[mid].start < end) lo = mid + 1;
        else hi = mid;
    }
    return lo > 0 && reach[lo - 1] > start;
}

static int is_alnum_at(PyObject *s, Py_ssize_t i) {
    return Py_UNICODE_ISALNUM(PyUnicode_READ_CHAR(s, i)) != 0;
}

/* The labels of ``sources``, sorted and unique (a new list). */
static PyObject *sorted_labels(PyObject *sources) {
    PyObject *set = PySet_New(NULL);
    if (set == NULL) return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(sources); i++)
        if (PySet_Add(set, PyTuple_GET_ITEM(PyList_GET_ITEM(sources, i), F_LABEL)) < 0) {
            Py_DECREF(set);
            return NULL;
        }
    PyObject *labels = PySequence_List(set);
    Py_DECREF(set);
    if (labels != NULL && PyList_Sort(labels) < 0) Py_CLEAR(labels);
    return labels;
}

/* "|".join(sorted({c for m in of_label for c in m.concept_id.split("|") if c})) */
static PyObject *joined_concepts(PyObject *sources, PyObject *label, PyObject *bar) {
    PyObject *set = PySet_New(NULL);
    if (set == NULL) return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(sources); i++) {
        PyObject *m = PyList_GET_ITEM(sources, i);
        int same = PyObject_RichCompareBool(PyTuple_GET_ITEM(m, F_LABEL), label, Py_EQ);
        if (same < 0) goto error;
        if (!same) continue;
        PyObject *parts = PyUnicode_Split(PyTuple_GET_ITEM(m, F_CONCEPT), bar, -1);
        if (parts == NULL) goto error;
        for (Py_ssize_t j = 0; j < PyList_GET_SIZE(parts); j++) {
            PyObject *c = PyList_GET_ITEM(parts, j);
            if (PyUnicode_GET_LENGTH(c) > 0 && PySet_Add(set, c) < 0) {
                Py_DECREF(parts);
                goto error;
            }
        }
        Py_DECREF(parts);
    }
    PyObject *sorted = PySequence_List(set);
    Py_DECREF(set);
    if (sorted == NULL) return NULL;
    if (PyList_Sort(sorted) < 0) {
        Py_DECREF(sorted);
        return NULL;
    }
    PyObject *joined = PyUnicode_Join(bar, sorted);
    Py_DECREF(sorted);
    return joined;
error:
    Py_DECREF(set);
    return NULL;
}

/* Append to *cands (growing it) one candidate per occurrence of ``form`` in ``text`` on token
 * boundaries that overlaps no extent. Returns 0, or -1 with an exception set. */
static int add_occurrences(PyObject *text, PyObject *form, const Extent *extents,
                           const Py_ssize_t *reach, Py_ssize_t n_extents, PyObject *label,
                           PyObject *concept, PyObject *score, PyObject *origin,
                           PyObject *unsure, PyObject *link_score, PyTypeObject *match_type,
                           Candidate **cands, Py_ssize_t *n, Py_ssize_t *cap) {
    const Py_ssize_t len = PyUnicode_GET_LENGTH(text), flen = PyUnicode_GET_LENGTH(form);
    if (flen == 0) return 0;
    const int first_alnum = is_alnum_at(form, 0), last_alnum = is_alnum_at(form, flen - 1);
    Py_ssize_t i = PyUnicode_Find(text, form, 0, len, 1);
    while (i >= 0) {
        const Py_ssize_t j = i + flen;
        if ((i == 0 || !(is_alnum_at(text, i - 1) && first_alnum)) &&
            (j == len || !(is_alnum_at(text, j) && last_alnum)) &&
            !overlaps(extents, reach, n_extents, i, j)) {
            PyObject *start = PyLong_FromSsize_t(i), *end = PyLong_FromSsize_t(j);
            PyObject *m = NULL;
            if (start != NULL && end != NULL)
                m = PyObject_CallFunctionObjArgs((PyObject *)match_type, start, end, label, concept,
                                                 form, score, origin, unsure, link_score,
                                                 NULL);
            Py_XDECREF(start);
            Py_XDECREF(end);
            if (m == NULL) return -1;
            if (*n == *cap) {
                Py_ssize_t grown_cap = *cap ? 2 * *cap : 8;
                Candidate *grown = PyMem_Realloc(*cands, sizeof(Candidate) * grown_cap);
                if (grown == NULL) {
                    Py_DECREF(m);
                    PyErr_NoMemory();
                    return -1;
                }
                *cands = grown;
                *cap = grown_cap;
            }
            (*cands)[*n] = (Candidate){i, j, *n, m};
            (*n)++;
        }
        i = PyUnicode_Find(text, form, i + 1, len, 1);
    }
    return i == -2 ? -1 : 0;
}

static PyObject *short_form_spans(PyObject *self, PyObject *args) {
    PyObject *text, *span_list, *pairs, *heldout, *abbreviation;
    PyTypeObject *match_type;
    int exact;
    if (!PyArg_ParseTuple(args, "UO!O!pUUO!", &text, &PyList_Type, &span_list, &PyList_Type, &pairs,
                          &exact, &heldout, &abbreviation, &PyType_Type, &match_type))
        return NULL;
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0) return NULL;
#endif
    /* The spans are checked once, then read again below after calls that may collect garbage
     * (and so run finalizers): a copy that no code can change. */
    PyObject *spans = PyList_AsTuple(span_list);
    if (spans == NULL) return NULL;
    const Py_ssize_t n_spans = PyTuple_GET_SIZE(spans);
    const Py_ssize_t text_len = PyUnicode_GET_LENGTH(text);
    Extent *extents = NULL;
    Py_ssize_t *reach = NULL;
    Candidate *cands = NULL;
    Py_ssize_t n_cands = 0, cap = 0, labelled = 0;
    PyObject *defined = NULL, *bar = NULL, *added = NULL, *result = NULL;

    extents = PyMem_Malloc(sizeof(Extent) * (n_spans ? n_spans : 1));
    reach = PyMem_Malloc(sizeof(Py_ssize_t) * (n_spans ? n_spans : 1));
    if (extents == NULL || reach == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n_spans; i++) {
        PyObject *m = PyTuple_GET_ITEM(spans, i);
        if (check_tuple(m, N_FIELDS, "spans") < 0 || field_ssize(m, F_START, &extents[i].start) < 0 ||
            field_ssize(m, F_END, &extents[i].end) < 0)
            goto done;
    }

    /* short form -> the spans that label its long forms, in the order definitions come */
    defined = PyDict_New();
    if (defined == NULL) goto done;
    for (Py_ssize_t p = 0; p < PyList_GET_SIZE(pairs); p++) {
        PyObject *pair = PyList_GET_ITEM(pairs, p);
        Py_ssize_t bounds[4];
        if (check_tuple(pair, 4, "pairs") < 0) goto done;
        for (int k = 0; k < 4; k++)
            if (field_ssize(pair, k, &bounds[k]) < 0) goto done;
        const Py_ssize_t long_start = bounds[0], long_end = bounds[1];
        if (bounds[2] < 0 || bounds[3] > text_len || bounds[2] > bounds[3]) {
            PyErr_SetString(PyExc_ValueError, "short form outside the text");
            goto done;
        }
        Py_ssize_t first = PY_SSIZE_T_MAX; /* the first start among spans ending there */
        for (Py_ssize_t i = 0; i < n_spans; i++)
            if (extents[i].end == long_end && extents[i].start < first) first = extents[i].start;
        const Py_ssize_t wanted = exact ? long_start : first;
        PyObject *sources = NULL;
        for (Py_ssize_t i = 0; i < n_spans; i++) {
            if (extents[i].end != long_end || extents[i].start != wanted) continue;
            if (sources == NULL) {
                PyObject *short_form = PyUnicode_Substring(text, bounds[2], bounds[3]);
                if (short_form == NULL) goto done;
                sources = PyDict_GetItemWithError(defined, short_form);
                if (sources == NULL) {
                    if (PyErr_Occurred() || (sources = PyList_New(0)) == NULL) {
                        Py_DECREF(short_form);
                        goto done;
                    }
                    int failed = PyDict_SetItem(defined, short_form, sources);
                    Py_DECREF(sources); /* the dict holds it */
                    if (failed < 0) {
                        Py_DECREF(short_form);
                        goto done;
                    }
                }
                Py_DECREF(short_form);
                labelled++;
            }
            if (PyList_Append(sources, PyTuple_GET_ITEM(spans, i)) < 0) goto done;
        }
    }

    if (PyDict_GET_SIZE(defined) > 0) {
        qsort(extents, n_spans, sizeof(Extent), by_start);
        for (Py_ssize_t i = 0; i < n_spans; i++)
            reach[i] = (i && reach[i - 1] > extents[i].end) ? reach[i - 1] : extents[i].end;
        bar = PyUnicode_FromString("|");
        if (bar == NULL) goto done;
        Py_ssize_t pos = 0;
        PyObject *short_form, *sources;
        while (PyDict_Next(defined, &pos, &short_form, &sources)) {
            PyObject *labels = sorted_labels(sources);
            if (labels == NULL) goto done;
            const Py_ssize_t n_labels = PyList_GET_SIZE(labels);
            for (Py_ssize_t l = 0; l < n_labels; l++) {
                PyObject *label = PyList_GET_ITEM(labels, l);
                int all_heldout = 1, any_uncertain = 0;
                PyObject *score = NULL; /* borrowed: min(m.score for m in of_label) */
                for (Py_ssize_t i = 0; i < PyList_GET_SIZE(sources); i++) {
                    PyObject *m = PyList_GET_ITEM(sources, i);
                    int same = PyObject_RichCompareBool(PyTuple_GET_ITEM(m, F_LABEL), label, Py_EQ);
                    if (same < 0) goto label_error;
                    if (!same) continue;
                    int held = PyObject_RichCompareBool(PyTuple_GET_ITEM(m, F_ORIGIN), heldout, Py_EQ);
                    int unsure = PyObject_IsTrue(PyTuple_GET_ITEM(m, F_UNCERTAIN));
                    if (held < 0 || unsure < 0) goto label_error;
                    all_heldout &= held;
                    any_uncertain |= unsure;
                    PyObject *s = PyTuple_GET_ITEM(m, F_SCORE);
                    if (score == NULL) {
                        score = s;
                    } else {
                        int less = PyObject_RichCompareBool(s, score, Py_LT);
                        if (less < 0) goto label_error;
                        if (less) score = s;
                    }
                }
                PyObject *concept = joined_concepts(sources, label, bar);
                if (concept == NULL) goto label_error;
                PyObject *unsure = (n_labels > 1 || any_uncertain) ? Py_True : Py_False;
                /* dictionary_link_score(concept): 1.0 with a concept id, 0.0 without */
                PyObject *link_score =
                    PyFloat_FromDouble(PyUnicode_GET_LENGTH(concept) > 0 ? 1.0 : 0.0);
                if (link_score == NULL) {
                    Py_DECREF(concept);
                    goto label_error;
                }
                Py_INCREF(score); /* the calls below may run code; keep it alive */
                int failed = add_occurrences(text, short_form, extents, reach, n_spans, label,
                                             concept, score, all_heldout ? heldout : abbreviation,
                                             unsure, link_score, match_type, &cands, &n_cands,
                                             &cap);
                Py_DECREF(score);
                Py_DECREF(link_score);
                Py_DECREF(concept);
                if (failed < 0) goto label_error;
                continue;
            label_error:
                Py_DECREF(labels);
                goto done;
            }
            Py_DECREF(labels);
        }
    }

    /* leftmost-longest among the candidates; the spans of one extent (one per label) together */
    if (n_cands > 1) qsort(cands, n_cands, sizeof(Candidate), by_position);
    added = PyList_New(0);
    if (added == NULL) goto done;
    Py_ssize_t reach_end = -1, ext_start = -1, ext_end = -1;
    for (Py_ssize_t c = 0; c < n_cands; c++) {
        int keep = 0;
        if (cands[c].start == ext_start && cands[c].end == ext_end) {
            keep = 1;
        } else if (cands[c].start >= reach_end) {
            keep = 1;
            ext_start = cands[c].start;
            ext_end = reach_end = cands[c].end;
        }
        if (keep && PyList_Append(added, cands[c].match) < 0) goto done;
    }
    result = Py_BuildValue("nO", labelled, added);

done:
    for (Py_ssize_t c = 0; c < n_cands; c++) Py_DECREF(cands[c].match);
    PyMem_Free(cands);
    PyMem_Free(extents);
    PyMem_Free(reach);
    Py_DECREF(spans);
    Py_XDECREF(defined);
    Py_XDECREF(bar);
    Py_XDECREF(added);
    return result;
}

static PyMethodDef methods[] = {
    {"short_form_spans", short_form_spans, METH_VARARGS,
     "short_form_spans(text, spans, pairs, exact, heldout, abbreviation, match_type) -> "
     "(labelled, added)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_labeling", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__labeling(void) { return PyModule_Create(&module); }
