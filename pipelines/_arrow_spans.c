/* The buffers of the silver schema's ``spans`` column (list<struct>), built in one pass.
 *
 * span_buffers(rows, layout) -> (row_offsets, fields)
 *
 * ``rows``: a sequence with one sequence of spans per row; a span is a tuple with one value per
 * character of ``layout``, which names each struct field's Arrow type in order: 'i' int32 (an
 * int), 'f' float32 (a float), 's' string (a str), 'b' bool (a bool). Returns the list offsets
 * (int32, one per row and one more) and, per field, its value buffer: int32 or float32 values,
 * a bit-packed bool bitmap, or a string field's (offsets, UTF-8 data). No validity buffers: no
 * value may be None. Anything else raises TypeError, ValueError or OverflowError, and the
 * caller builds the column with pyarrow instead (pipelines/silver/shards.py), which stays the reference
 * a test compares this with.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    char *data;
    Py_ssize_t len, cap;
} Buf;

static int buf_reserve(Buf *b, Py_ssize_t more) {
    if (b->len + more <= b->cap) return 0;
    Py_ssize_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more) cap *= 2;
    char *data = PyMem_Realloc(b->data, (size_t)cap);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

static int buf_add(Buf *b, const void *src, Py_ssize_t n) {
    if (n == 0) return 0; /* an empty str: b->data may still be NULL, which memcpy must not get */
    if (buf_reserve(b, n) < 0) return -1;
    memcpy(b->data + b->len, src, (size_t)n);
    b->len += n;
    return 0;
}

static int buf_add_i32(Buf *b, int64_t value) {
    if (value < INT32_MIN || value > INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "value out of int32 range");
        return -1;
    }
    int32_t v = (int32_t)value;
    return buf_add(b, &v, sizeof v);
}

static PyObject *buf_bytes(Buf *b) { return PyBytes_FromStringAndSize(b->data, b->len); }

typedef struct {
    char kind;
    Buf values;  /* 'i', 'f': the values; 'b': the bitmap; 's': the UTF-8 data */
    Buf offsets; /* 's' only */
} Field;

static int add_value(Field *f, PyObject *value, Py_ssize_t index) {
    switch (f->kind) {
    case 'i': {
        if (!PyLong_Check(value) || PyBool_Check(value)) {
            PyErr_SetString(PyExc_TypeError, "expected an int");
            return -1;
        }
        long long v = PyLong_AsLongLong(value);
        if (v == -1 && PyErr_Occurred()) return -1;
        return buf_add_i32(&f->values, v);
    }
    case 'f': {
        if (!PyFloat_Check(value)) {
            PyErr_SetString(PyExc_TypeError, "expected a float");
            return -1;
        }
        float v = (float)PyFloat_AS_DOUBLE(value);
        return buf_add(&f->values, &v, sizeof v);
    }
    case 'b': {
        if (!PyBool_Check(value)) {
            PyErr_SetString(PyExc_TypeError, "expected a bool");
            return -1;
        }
        if ((index & 7) == 0) {
            char zero = 0;
            if (buf_add(&f->values, &zero, 1) < 0) return -1;
        }
        if (value == Py_True) f->values.data[index >> 3] |= (char)(1 << (index & 7));
        return 0;
    }
    case 's': {
        if (!PyUnicode_Check(value)) {
            PyErr_SetString(PyExc_TypeError, "expected a str");
            return -1;
        }
        Py_ssize_t size;
        const char *utf8 = PyUnicode_AsUTF8AndSize(value, &size);
        if (utf8 == NULL || buf_add(&f->values, utf8, size) < 0) return -1;
        return buf_add_i32(&f->offsets, f->values.len);
    }
    }
    PyErr_SetString(PyExc_ValueError, "layout characters are i, f, s and b");
    return -1;
}

static PyObject *span_buffers(PyObject *self, PyObject *args) {
    PyObject *rows, *layout_obj;
    if (!PyArg_ParseTuple(args, "OU", &rows, &layout_obj)) return NULL;
    Py_ssize_t n_fields;
    const char *layout = PyUnicode_AsUTF8AndSize(layout_obj, &n_fields);
    if (layout == NULL) return NULL;
    if (n_fields == 0) {
        PyErr_SetString(PyExc_ValueError, "empty layout");
        return NULL;
    }
    for (Py_ssize_t k = 0; k < n_fields; k++) /* checked here too for a call without spans */
        if (strchr("ifsb", layout[k]) == NULL || layout[k] == '\0') {
            PyErr_SetString(PyExc_ValueError, "layout characters are i, f, s and b");
            return NULL;
        }
    PyObject *rows_fast = PySequence_Fast(rows, "rows must be a sequence");
    if (rows_fast == NULL) return NULL;
    PyObject *result = NULL;
    Buf row_offsets = {0};
    Field *fields = PyMem_Calloc((size_t)n_fields, sizeof(Field));
    if (fields == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t k = 0; k < n_fields; k++) {
        fields[k].kind = layout[k];
        if (layout[k] == 's' && buf_add_i32(&fields[k].offsets, 0) < 0) goto done;
    }
    Py_ssize_t n_spans = 0;
    if (buf_add_i32(&row_offsets, 0) < 0) goto done;
    /* A row that is not a list or tuple is copied by running its code, which may change a list
     * of rows: its size is read anew for each row (a shortened list ends the loop). */
    for (Py_ssize_t r = 0; r < PySequence_Fast_GET_SIZE(rows_fast); r++) {
        PyObject *spans = PySequence_Fast(PySequence_Fast_GET_ITEM(rows_fast, r),
                                          "each row's spans must be a sequence");
        if (spans == NULL) goto done;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(spans);
        for (Py_ssize_t i = 0; i < n; i++, n_spans++) {
            PyObject *span = PySequence_Fast_GET_ITEM(spans, i);
            if (!PyTuple_Check(span) || PyTuple_GET_SIZE(span) != n_fields) {
                PyErr_SetString(PyExc_TypeError, "a span must be a tuple of the layout's length");
                Py_DECREF(spans);
                goto done;
            }
            for (Py_ssize_t k = 0; k < n_fields; k++) {
                if (add_value(&fields[k], PyTuple_GET_ITEM(span, k), n_spans) < 0) {
                    Py_DECREF(spans);
                    goto done;
                }
            }
        }
        Py_DECREF(spans);
        if (buf_add_i32(&row_offsets, n_spans) < 0) goto done;
    }
    PyObject *parts = PyTuple_New(n_fields);
    if (parts == NULL) goto done;
    for (Py_ssize_t k = 0; k < n_fields; k++) {
        PyObject *part = fields[k].kind == 's'
                             ? Py_BuildValue("(NN)", buf_bytes(&fields[k].offsets),
                                             buf_bytes(&fields[k].values))
                             : buf_bytes(&fields[k].values);
        if (part == NULL) {
            Py_DECREF(parts);
            goto done;
        }
        PyTuple_SET_ITEM(parts, k, part);
    }
    result = Py_BuildValue("(NN)", buf_bytes(&row_offsets), parts);
done:
    if (fields != NULL) {
        for (Py_ssize_t k = 0; k < n_fields; k++) {
            PyMem_Free(fields[k].values.data);
            PyMem_Free(fields[k].offsets.data);
        }
        PyMem_Free(fields);
    }
    PyMem_Free(row_offsets.data);
    Py_DECREF(rows_fast);
    return result;
}

static PyMethodDef methods[] = {
    {"span_buffers", span_buffers, METH_VARARGS,
     "span_buffers(rows, layout) -> (row_offsets, per-field buffers)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_arrow_spans", NULL, -1, methods};

PyMODINIT_FUNC PyInit__arrow_spans(void) { return PyModule_Create(&module); }
