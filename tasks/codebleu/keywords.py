"""Keyword lists for CodeBLEU's weighted n-gram match, one per language.

Written for codeeval from each language's reference: its reserved words (Java: the 50 JLS
keywords, literals excluded), plus the contextual keywords the reference lists for C#, Kotlin,
Swift, TypeScript and JavaScript. A keyword unigram weighs 1, any other token 0.2. Tokens are
whitespace-separated, so only words standing alone (`return`, not `return;`) ever match.
For Solidity the list also names the built-in global namespaces (`msg`, `block`, `tx`,
`abi`) and common value types, as MultiCodeBench's own Solidity list does.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


C_KEYWORDS = """auto break case char const continue default do double else enum extern float for
goto if inline int long register restrict return short signed sizeof static struct switch typedef
union unsigned void volatile while _Alignas _Alignof _Atomic _Bool _Complex _Generic _Imaginary
_Noreturn _Static_assert _Thread_local"""

JS_KEYWORDS = """await break case catch class const continue debugger default delete do else
enum export extends false finally for function if import in instanceof let new null return super
switch this throw true try typeof var void while with yield implements interface package private
protected public static arguments async get set"""

KEYWORDS: dict[str, frozenset[str]] = {
    "python": _words("""False None True and as assert async await break class continue def del
        elif else except finally for from global if import in is lambda nonlocal not or pass
        raise return try while with yield"""),
    "java": _words("""abstract assert boolean break byte case catch char class const continue
        default do double else enum extends final finally float for goto if implements import
        instanceof int interface long native new package private protected public return short
        static strictfp super switch synchronized this throw throws transient try void volatile
        while"""),
    "javascript": _words(JS_KEYWORDS),
    "typescript": _words(JS_KEYWORDS + """ any as boolean constructor declare infer intrinsic is
        keyof module namespace never object readonly require number string symbol type undefined
        unique unknown from global bigint of abstract asserts satisfies override accessor
        assert out"""),
    "go": _words("""break case chan const continue default defer else fallthrough for func go
        goto if import interface map package range return select struct switch type var"""),
    "c": _words(C_KEYWORDS),
    "cpp": _words("""alignas alignof and and_eq asm atomic_cancel atomic_commit atomic_noexcept
        auto bitand bitor bool break case catch char char8_t char16_t char32_t class co_await
        co_return co_yield compl concept const consteval constexpr constinit const_cast continue
        decltype default delete do double dynamic_cast else enum explicit export extern false
        float for friend goto if inline int long mutable namespace new noexcept not not_eq
        nullptr operator or or_eq private protected public reflexpr register reinterpret_cast
        requires return short signed sizeof static static_assert static_cast struct switch
        synchronized template this thread_local throw true try typedef typeid typename union
        unsigned using virtual void volatile wchar_t while xor xor_eq"""),
    "c_sharp": _words("""abstract as base bool break byte case catch char checked class const
        continue decimal default delegate do double else enum event explicit extern false
        finally fixed float for foreach goto if implicit in int interface internal is lock long
        namespace new null object operator out override params private protected public readonly
        ref return sbyte sealed short sizeof stackalloc static string struct switch this throw
        true try typeof uint ulong unchecked unsafe ushort using virtual void volatile while add
        alias ascending async await by descending dynamic equals from get global group into join
        let nameof on orderby partial remove select set unmanaged value var when where yield
        record init required file scoped"""),
    "php": _words("""__halt_compiler abstract and array as break callable case catch class
        clone const continue declare default die do echo else elseif empty enddeclare endfor
        endforeach endif endswitch endwhile enum eval exit extends final finally fn for foreach
        function global goto if implements include include_once instanceof insteadof interface
        isset list match namespace new or print private protected public readonly require
        require_once return static switch throw trait try unset use var while xor yield
        __CLASS__ __DIR__ __FILE__ __FUNCTION__ __LINE__ __METHOD__ __NAMESPACE__ __TRAIT__
        true false null self parent"""),
    "rust": _words("""as async await break const continue crate dyn else enum extern false fn
        for if impl in let loop match mod move mut pub ref return self Self static struct super
        trait true type unsafe use where while abstract become box do final macro override priv
        typeof unsized virtual yield try union"""),
    "scala": _words("""abstract case catch class def do else enum export extends false final
        finally for forSome given if implicit import lazy macro match new null object override
        package private protected return sealed super then this throw trait true try type val
        var while with yield using inline opaque open transparent infix derives end extension"""),
    "lua": _words("""and break do else elseif end false for function goto if in local nil not
        or repeat return then true until while"""),
    "kotlin": _words("""as break class continue do else false for fun if in interface is null
        object package return super this throw true try typealias typeof val var when while by
        catch constructor delegate dynamic field file finally get import init param property
        receiver set setparam value where abstract actual annotation companion const crossinline
        data enum expect external final infix inline inner internal lateinit noinline open
        operator out override private protected public reified sealed suspend tailrec vararg"""),
    "swift": _words("""associatedtype class deinit enum extension fileprivate func import init
        inout internal let open operator private precedencegroup protocol public rethrows static
        struct subscript typealias var break case catch continue default defer do else
        fallthrough for guard if in repeat return throw switch where while Any as await false is
        nil self Self super throws true try async convenience dynamic didSet final get indirect
        lazy mutating nonmutating optional override required set some unowned weak willSet"""),
    "solidity": _words("""abstract after alias anonymous apply as assembly auto bool break byte
        bytes calldata case catch constant constructor continue contract copyof default define
        delete do else emit enum error event external fallback false final for function global
        if immutable implements import in indexed inline interface internal is let library
        macro mapping match memory modifier mutable new null of override partial payable pragma
        private promise public pure receive reference relocatable return returns revert sealed
        sizeof static storage string struct supports switch this throw true try type typedef
        typeof unchecked using var view virtual while block msg tx abi super
        blockhash"""),
}
