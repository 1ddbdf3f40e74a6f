# Making and freeing Value handles: included by _engine.pyx.
#
# An operation makes one handle and most die young, so their life costs as
# much as recording a few nodes. Cython's own tp_new and tp_dealloc for Value
# track every new handle with the cycle collector (a Value may hold Python
# data), save and restore the exception state around __dealloc__ and go
# through the type call. A handle without Python data needs none of that:
# these make and free one with a store or two, keep freed handles for reuse,
# and leave everything else to Cython's functions.

cdef extern from *:
    """
    /* The layout of Cython's Value object; checked against it at import. */
    typedef struct {
        PyObject_HEAD
        tg_node *node;
        PyObject *side;     /* a _NodeData, or None */
        PyObject *attrs;
    } tg_handle;

    #define TG_FREE_HANDLES 8192
    static PyObject *tg_free_handles[TG_FREE_HANDLES];
    static int tg_nfree_handles = 0;
    static destructor tg_handle_dealloc_of_cython = NULL;
    static tg_tape *tg_handle_tape = NULL;
    /* Allocations of a handle in progress. Its node was just recorded and no
     * handle roots it yet, and the allocation may run the cycle collector and
     * so any finalizer: the tape must not collect until it is done. */
    static int tg_handles_allocating = 0;

    /* A new handle of node: untracked, no Python data. NULL (MemoryError set)
     * when out of memory. */
    static PyObject *tg_handle_new(PyTypeObject *type, tg_node *node)
    {
        PyObject *o;
        if (tg_nfree_handles > 0) {
            o = tg_free_handles[--tg_nfree_handles];
            (void)PyObject_INIT(o, type);
        } else {
            tg_handles_allocating++;
            o = type->tp_alloc(type, 0);
            tg_handles_allocating--;
            if (o == NULL)
                return NULL;
            PyObject_GC_UnTrack(o);
        }
        tg_handle *h = (tg_handle *)o;
        h->node = node;
        Py_INCREF(Py_None);
        h->side = Py_None;
        h->attrs = NULL;
        return o;
    }

    /* Value's tp_dealloc: a handle without Python data is kept for reuse;
     * any other goes through Cython's, which runs __dealloc__. */
    static void tg_handle_dealloc(PyObject *o)
    {
        tg_handle *h = (tg_handle *)o;
        PyTypeObject *type = Py_TYPE(o);
        if (h->side != Py_None || PyObject_GC_IsTracked(o) || tg_nfree_handles == TG_FREE_HANDLES) {
            tg_handle_dealloc_of_cython(o);
            return;
        }
        if (h->node != NULL && h->node->handle == (void *)o)
            tg_node_set_handle(tg_handle_tape, h->node, NULL);
        h->node = NULL;
        h->side = NULL;
        Py_DECREF(Py_None);
        tg_free_handles[tg_nfree_handles++] = o;
        if (PyType_HasFeature(type, Py_TPFLAGS_HEAPTYPE))
            Py_DECREF(type);
    }

    /* node and attrs where Cython put them: side, declared between them, is
     * then where tg_handle has it, as nothing else fits there */
    static int tg_handle_layout_is(Py_ssize_t node, Py_ssize_t attrs)
    {
        return node == (Py_ssize_t)offsetof(tg_handle, node)
            && attrs == (Py_ssize_t)offsetof(tg_handle, attrs)
            && offsetof(tg_handle, attrs) - offsetof(tg_handle, node) == 2 * sizeof(void *);
    }

    static void tg_handles_install(PyTypeObject *type, tg_tape *tape)
    {
        tg_handle_tape = tape;
        tg_handle_dealloc_of_cython = type->tp_dealloc;
        type->tp_dealloc = tg_handle_dealloc;
        PyType_Modified(type);
    }
    """
    int tg_handles_allocating
    object tg_handle_new(PyTypeObject *type, tg_node *node)
    bint tg_handle_layout_is(Py_ssize_t node, Py_ssize_t attrs)
    void tg_handles_install(PyTypeObject *type, tg_tape *tape)


cdef _install_handles():
    """Gives Value the tp_dealloc above, once its layout is known to match."""
    cdef Value probe = Value.__new__(Value)
    cdef char *start = <char *><PyObject *>probe
    if not tg_handle_layout_is(<char *>&probe.node - start, <char *>&probe.attrs - start):
        raise ImportError("tapegrad: Value's layout is not the one _handles.pxi expects")
    tg_handles_install(<PyTypeObject *>Value, &_tape)
