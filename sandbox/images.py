"""Sandbox images built with no registry: `codeeval images build [base|python|classeval|all]`.

The base is a Debian root file system made by `debootstrap` (minbase plus Python, which the
in-container worker needs) and `docker import`ed. Each venv image adds, on top of the base, a
venv with one benchmark family's pinned libraries (images/<name>-requirements.txt), installed
from wheels that `pip wheel` fetched and built on the host, so no build step needs a network.
`python` carries BigCodeBench's pins (also enough for BigCodeBench-Lite Pro); `classeval`
carries ClassEval's, which differ. `java` is a second debootstrap root that also includes a JDK
and Debian's JUnit 5 / Mockito jars (JavaBench), since apt inside a Docker build has no network.
Every image is tagged by a hash of its recipe: a rebuild with an unchanged recipe is skipped.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from codeeval.errors import UserError
from codeeval.sandbox.engine import docker_client

RECIPES = Path(__file__).with_name("images")
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
# zip, unzip, procps (ps, pgrep, top) and python3-tk (tkinter) as in BigCodeBench's evaluation
# image: its tests run them
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates", "zip", "unzip", "procps",
                 "python3-tk")
# JavaBench's runner: javac and the JUnit Platform jars (the console launcher's standalone jar
# carries the Launcher API it calls), under /usr/share/java.
JAVA_PACKAGES = ("python3", "ca-certificates", "openjdk-17-jdk-headless", "junit5",
                 "libopentest4j-java", "libapiguardian-java", "libjetbrains-annotations-java",
                 "libmockito-java")
# The java image's test runtimes (jlink'd, with their own class archives), in which JavaBench's
# tests run (tasks/JavaBenchTests.java). A test JVM holds the nonce that marks its counts, and
# the program's code runs in it, so neither may offer a way into the JVM's memory: no
# jdk.unsupported (sun.misc.Unsafe, and a ReflectionFactory that makes any constructor
# accessible: a TRUSTED MethodHandles.Lookup), jdk.attach, jdk.management (heap dumps), jdk.jfr,
# jdk.compiler or jdk.crypto.cryptoki (a native library its configuration names). PA22's Mockito
# needs a ReflectionFactory (Objenesis makes its mocks without their constructors): its runtime
# has the image's own (images/ReflectionFactory.java, module codeeval.reflect), which makes
# only class-path classes that way. Every `java` is execute-only for the
# programs' uid: a process that runs a file it cannot read is not dumpable, so its
# /proc/PID/mem belongs to root and no process of that uid may ptrace it.
TEST_RUNTIME_MODULES = ("java.se,jdk.charsets,jdk.localedata,jdk.crypto.ec,jdk.zipfs,jdk.net,"
                        "jdk.httpserver,jdk.xml.dom,jdk.security.auth,jdk.security.jgss,"
                        "jdk.naming.dns,jdk.random,jdk.nio.mapmode,jdk.sctp,jdk.accessibility,"
                        "jdk.dynalink")
JDK_HOME = "/usr/lib/jvm/java-17-openjdk-amd64"
TEST_RUNTIME = "/usr/lib/jvm/codeeval-tests"
MOCKITO_RUNTIME = "/usr/lib/jvm/codeeval-tests-mockito"
REFLECT_EXPORT = "--add-exports=java.base/jdk.internal.reflect=codeeval.reflect"
JLINK = ("jlink --no-man-pages --no-header-files --generate-cds-archive "
         f"--module-path {JDK_HOME}/jmods:/tmp/reflect/module")
# (the option's value starts with a space: jlink reads a value that starts "--" as an option)
JAVA_FINISH = f"""mkdir -p /tmp/reflect/src/sun/reflect /tmp/reflect/module
echo 'module codeeval.reflect {{ exports sun.reflect; }}' > /tmp/reflect/src/module-info.java
cat > /tmp/reflect/src/sun/reflect/ReflectionFactory.java <<'JAVA'
{(RECIPES / "ReflectionFactory.java").read_text(encoding="utf-8")}JAVA
cd /tmp/reflect/src && javac {REFLECT_EXPORT} -d ../module module-info.java sun/reflect/*.java
{JLINK} --add-modules {TEST_RUNTIME_MODULES} --output {TEST_RUNTIME}
{JLINK} --add-modules {TEST_RUNTIME_MODULES},codeeval.reflect --output {MOCKITO_RUNTIME} \\
  --add-options=" {REFLECT_EXPORT}"
rm -rf /tmp/reflect
chmod 0711 /usr/lib/jvm/*/bin/java
"""
WHEEL_CACHE = Path.home() / ".cache" / "codeeval" / "wheels"


@dataclass(frozen=True)
class Image:
    name: str
    tag: str
    python: str   # the interpreter the in-container worker runs
    # whether programs may run files they write to /tmp: BigCodeBench's tests write scripts
    # there and run them; a JavaBench test JVM must not load a native library the program
    # wrote (System.load: native code reads the JVM's memory, and the nonce in it)
    exec_tmp: bool = True


def recipe_hash(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:12]


@dataclass(frozen=True)
class RootImage(Image):
    packages: tuple[str, ...] = ()   # what debootstrap --include's
    finish: str = ""   # a shell script run in the new root (chroot) before it is imported


def root_image(name: str, packages: tuple[str, ...], finish: str = "",
               exec_tmp: bool = True) -> RootImage:
    tag = f"codeeval-{name}:{recipe_hash(SUITE, MIRROR, *packages, *filter(None, [finish]))}"
    return RootImage(name, tag, "/usr/bin/python3", exec_tmp, packages, finish)


def base_image() -> RootImage:
    return root_image("base", BASE_PACKAGES)


def venv_image(name: str) -> Image:
    dockerfile = (RECIPES / "venv.Dockerfile").read_bytes()
    requirements = (RECIPES / f"{name}-requirements.txt").read_bytes()
    tag = f"codeeval-{name}:{recipe_hash(base_image().tag, dockerfile, requirements)}"
    return Image(name, tag, "/opt/venv/bin/python3")


def external_image(tag: str) -> Image:
    """An image the user loaded (CoderEval's evaluation image): run as it is, its worker
    started with the `python3` on the image's PATH (Python >= 3.9)."""
    return Image(f"external:{tag}", tag, "python3")


def resolve(name: str) -> Image:
    """The image a program names: one of IMAGES, or `external:<tag>`."""
    if name.startswith("external:"):
        return external_image(name[len("external:"):])
    return IMAGES[name]()


VENV_IMAGES = ("python", "classeval")
IMAGES = {"base": base_image,
          **{name: (lambda name=name: venv_image(name)) for name in VENV_IMAGES},
          "java": lambda: root_image("java", JAVA_PACKAGES, JAVA_FINISH, exec_tmp=False)}


def image_exists(tag: str) -> bool:
    import docker
    try:
        docker_client().images.get(tag)
        return True
    except docker.errors.APIError:   # ImageNotFound, or a malformed name
        return False


def build(name: str, *, log=print) -> Image:
    image = IMAGES[name]()
    if image_exists(image.tag):
        log(f"{image.tag}: up to date")
        return image
    if isinstance(image, RootImage):
        _build_root(image, log)
    else:
        _build_venv(image, log)
    return image


def _run(command: list[str], what: str, **kwargs) -> None:
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise UserError(f"{what} failed (exit {done.returncode}): {tail[0]}")


def _build_root(image: RootImage, log) -> None:
    if shutil.which("debootstrap") is None:
        raise UserError("debootstrap is not installed: `apt-get install debootstrap` (Debian/"
                        "Ubuntu) builds the base image without a registry")
    with tempfile.TemporaryDirectory(prefix="codeeval-rootfs-") as root:
        log(f"{image.tag}: debootstrap {SUITE} ({', '.join(image.packages)}) ...")
        _run(["debootstrap", "--variant=minbase", f"--include={','.join(image.packages)}",
              SUITE, root, MIRROR], "debootstrap")
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for entry in Path(root, cache).glob("*"):
                if entry.is_file():
                    entry.unlink()
        if image.finish:
            # its own /proc (the JDK's tools find their libraries through /proc/self/exe),
            # gone with its mount namespace
            _run(["unshare", "--pid", "--fork", f"--mount-proc={root}/proc",
                  "chroot", root, "/bin/sh", "-ec", image.finish], "the image's finishing script")
        log(f"{image.tag}: docker import ...")
        tar = subprocess.Popen(["tar", "-C", root, "-c", "."], stdout=subprocess.PIPE)
        _run(["docker", "import", "-", image.tag], "docker import", stdin=tar.stdout)
        tar.wait()


def _build_venv(image: Image, log) -> None:
    base = build("base", log=log)
    requirements = RECIPES / f"{image.name}-requirements.txt"
    wheels = WHEEL_CACHE / recipe_hash(requirements.read_bytes())
    if not (wheels / ".complete").exists():
        log(f"{image.tag}: fetching and building wheels into {wheels} (pip wheel) ...")
        wheels.mkdir(parents=True, exist_ok=True)
        _run(["python3", "-m", "pip", "wheel", "-q", "--disable-pip-version-check",
              "-r", str(requirements), "-w", str(wheels)], "pip wheel")
        (wheels / ".complete").touch()
    with tempfile.TemporaryDirectory(prefix="codeeval-build-") as context:
        shutil.copyfile(RECIPES / "venv.Dockerfile", Path(context, "Dockerfile"))
        shutil.copyfile(requirements, Path(context, "requirements.txt"))
        shutil.copytree(wheels, Path(context, "wheels"), copy_function=_link_or_copy)
        log(f"{image.tag}: docker build ...")
        import docker
        try:
            docker_client().images.build(path=context, tag=image.tag,
                                         buildargs={"BASE": base.tag}, rm=True, forcerm=True)
        except docker.errors.BuildError as exc:
            lines = [c.get("stream", "") for c in exc.build_log]
            errors = [l.strip() for l in lines if "ERROR" in l or "rror:" in l]
            raise UserError(f"docker build of {image.tag} failed: "
                            f"{(errors or [exc.msg])[-1]}") from None
        finally:   # the builder stage is left as an untagged image: remove it
            docker_client().images.prune(filters={"dangling": True,
                                                  "label": "codeeval.build-stage=builder"})


def _link_or_copy(source: str, target: str) -> None:
    try:
        Path(target).hardlink_to(source)
    except OSError:
        shutil.copy2(source, target)
