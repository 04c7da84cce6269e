"""Keyword lists for CodeBLEU's weighted n-gram match, one per language.

The words are those of MultiCodeBench's `evaluation/CodeBleu/keywords/<language>.txt` (one
word a line, read with `strip()`; C# is `csharp.txt`), facts about the official scorer written
here as sorted word lists. They are the scorer's lists, not the languages' references: Kotlin's
holds only modifier keywords plus `_` and `it` (no `fun`, `val`, `if`), Scala's includes
`=>`, `<-`, `:`, `@` and `Unit`, Solidity's names `msg`, `block`, `tx` and `abi`. (Scala's file
also holds an empty line, which no whitespace token can equal.) A keyword unigram weighs 1, any
other token 0.2. Tokens are whitespace-separated, so only words standing alone (`return`, not
`return;`) ever match.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


KEYWORDS: dict[str, frozenset[str]] = {
    "python": _words("""
        False None True and as assert async await break class continue def del elif else except
        finally for from global if import in is lambda nonlocal not or pass raise return try
        while with yield"""),
    "java": _words("""
        abstract assert boolean break byte case catch char class const continue default do
        double else enum extends final finally float for goto if implements import instanceof
        int interface long native new package private protected public return short static
        strictfp super switch synchronized this throw throws transient try void volatile while"""),
    "javascript": _words("""
        arguments async await break case catch class const continue debugger default delete do
        else enum export extends false finally for function get if implements import in
        instanceof interface let new null package private protected public return set static
        super switch this throw true try typeof var void while with yield"""),
    "typescript": _words("""
        abstract any as assert asserts await bigint boolean break case catch class const
        constructor continue debugger declare default delete do else enum export extends false
        finally for from function get global if implements import in infer instanceof interface
        intrinsic is keyof let module namespace never new null number object of package private
        protected public readonly require return set static string super switch symbol this
        throw true try type typeof undefined unique unknown var void while with yield"""),
    "go": _words("""
        break case chan const continue default defer else fallthrough for func go goto if import
        interface map package range return select struct switch type var"""),
    "c": _words("""
        _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary _Noreturn _Static_assert
        _Thread_local auto break case char const continue default do double else enum extern
        float for goto if inline int long register restrict return short signed sizeof static
        struct switch typedef union unsigned void volatile while"""),
    "cpp": _words("""
        alignas alignof and and_eq asm atomic_cancel atomic_commit atomic_noexcept auto bitand
        bitor bool break case catch char char16_t char32_t char8_t class co_await co_return
        co_yield compl concept const const_cast constexpr continue decltype default delete do
        double dynamic_cast else enum explicit export extern false float for friend goto if
        inline int long mutable namespace new noexcept not not_eq nullptr operator or or_eq
        private protected public register reinterpret_cast requires return short signed sizeof
        static static_assert static_cast struct switch synchronized template this thread_local
        throw true try typedef typeid typename union unsigned using virtual void volatile
        wchar_t while xor xor_eq"""),
    "c_sharp": _words("""
        abstract add alias as ascending async await base bool break by byte case catch char
        checked class const continue decimal default delegate descending do double dynamic else
        enum equals event explicit extern false finally fixed float for foreach from get global
        goto group if implicit in int interface internal into is join let lock long nameof
        namespace new notnull null object on operator orderby out override params partial
        private protected public readonly ref remove return sbyte sealed select set short sizeof
        stackalloc static string struct switch this throw true try typeof uint ulong unchecked
        unmanaged unsafe ushort using value var virtual void volatile when where while yield"""),
    "php": _words("""
        __CLASS__ __DIR__ __FILE__ __FUNCTION__ __LINE__ __METHOD__ __NAMESPACE__ __TRAIT__
        __halt_compiler abstract and array as break callable case catch class clone const
        continue declare default die do echo else elseif empty enddeclare endfor endforeach
        endif endswitch endwhile eval exit extends final finally fn for foreach function global
        goto if implements include include_once instanceof insteadof interface isset list match
        namespace new or print private protected public require require_once return static
        switch throw trait try unset use var while xor yield"""),
    "rust": _words("""
        Self abstract as async auto become box break catch const continue crate default do dyn
        else enum extern false final fn for if impl in let loop macro match mod move mut
        override priv pub ref return self static struct super trait true type typeof union
        unsafe unsized use virtual where while yield"""),
    "scala": _words("""
        : <- => @ Any AnyRef Nil None Nothing Unit _ abstract case catch class def do else
        extends false final finally for forSome if implicit import lazy match new null object
        override package private protected return sealed super this throw trait true try type
        val var while with yield"""),
    "lua": _words("""
        and break do else elseif end false for function goto if in local nil not or repeat
        return then true until while"""),
    "kotlin": _words("""
        _ abstract actual annotation companion const crossinline data enum expect external final
        infix inline inner internal it lateinit noinline open operator out override private
        protected public reified sealed suspend tailrec value"""),
    "swift": _words("""
        actor as associatedtype async await break case catch class continue convenience defer
        deinit do dynamic else enum extension fallthrough false fileprivate final for func guard
        if import in indirect infix init inout internal is lazy let mutating nil none
        nonisolated open operator optional override postfix prefix private protocol public
        repeat required rethrows return set some static struct subscript super switch throw
        throws true try typealias unowned var weak where while"""),
    "solidity": _words("""
        abi abstract after alias anonymous as assembly block blockhash bool break byte bytes
        case catch constant constructor continue contract delete do else emit enum error event
        external fallback false for function global if immutable import indexed interface
        internal is library mapping memory modifier msg new null override partial payable pragma
        private public pure receive return returns revert storage string struct super switch
        this throw true try tx type typeof unchecked using var view virtual while"""),
}
