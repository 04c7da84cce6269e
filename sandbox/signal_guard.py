"""Python-level signal handlers that cannot run inside the audit hook (standard library only).

Loaded by the worker from source as `codeeval_signals`; `codeeval_guard` (program_guard.py)
calls `guard_signals` when it installs the hook in a program's process. A signal handler runs
between any two bytecodes, so one that landed while the hook's frames were on the stack could
read the hook's state (the nonce, the report) from them.
"""

import sys


def guard_signals(*guarded):
    """Run every Python-level signal handler through one trampoline that drops a signal
    arriving while the audit hook's frames are on the stack (a handler there could read the
    hook's state). `signal.signal` and `getsignal` (and `_signal`'s) become functions that
    record the handler and ask the audit hook (`codeeval.signal`) to point the signal at the
    trampoline, or back to SIG_DFL or SIG_IGN. Returns (the real `_signal.signal`, the
    trampoline) for the hook's closure: no module, closure or frame the program can reach
    keeps them, so no handler bypasses the trampoline. Dispositions the kernel acts on
    (default, ignore) stay the kernel's: a SIGTERM still ends a process blocked in a wait."""
    import _signal
    import signal
    guarded, id_, callable_, int_ = frozenset(guarded), id, callable, int
    default, ignore, audit = signal.SIG_DFL, signal.SIG_IGN, sys.audit
    handlers = {}

    # Its state as defaults, not closure cells: the trampoline can be reached (the real
    # getsignal returns it), a cell's contents can be rewritten without an audit event, and
    # setting a harness function's __defaults__ is tampering.
    def trampoline(signum, frame, guarded=guarded, handlers=handlers, id_=id_, callable_=callable_):
        walker = frame
        while walker is not None:
            if id_(walker.f_code) in guarded:
                return None
            walker = walker.f_back
        handler = handlers.get(signum)
        return handler(signum, frame) if callable_(handler) else None

    def set_handler(signalnum, handler):
        number = int_(signalnum)
        kernel = handler is default or handler is ignore or type(handler) is int and handler in (0, 1)
        if not (kernel or callable_(handler)):
            raise TypeError("signal handler must be signal.SIG_IGN, signal.SIG_DFL, or a callable object")
        previous = get_handler(number)
        audit("codeeval.signal", number, handler if kernel else None)
        handlers[number] = handler
        return previous

    def get_handler(signalnum):   # never the trampoline itself: its closure holds `guarded`
        number = int_(signalnum)
        current = real_getsignal(number)
        return handlers.get(number, default) if id_(current) == trampoline_id else current

    real_signal, real_getsignal, trampoline_id = _signal.signal, _signal.getsignal, id(trampoline)
    for number in _signal.valid_signals():   # ints: signal's wraps each in an enum
        current = real_getsignal(number)
        if callable_(current):   # Python handlers set before (SIGINT's): through the trampoline
            handlers[number] = current
            real_signal(number, trampoline)
    for module in (_signal, signal):
        module.signal, module.getsignal = set_handler, get_handler
    return real_signal, trampoline
