// The java image's stand-in for jdk.unsupported's sun.reflect.ReflectionFactory, in a module of
// its own (codeeval.reflect) that the image links into the runtime of JavaBench's Mockito tests
// (PA22) instead of jdk.unsupported (sandbox/images.py). Mockito makes its mocks with Objenesis,
// which on HotSpot makes an object without running its constructors through this class:
// `getReflectionFactory()`, then `newConstructorForSerialization(type, Object's constructor)`.
// The JDK's class also makes any constructor it is given accessible (a TRUSTED
// MethodHandles.Lookup in a test's hands reads and writes the JVM's every object, the runner's
// counts included), and jdk.unsupported brings sun.misc.Unsafe; this one offers that one call,
// for classes whose every superclass but Object is off the JDK (a class-path class: the
// project's, a mock, a library's), so that no JDK object is ever made without its constructor.
// Its field is unreadable from the class path: the module opens no package.
package sun.reflect;

import java.lang.reflect.Constructor;
import java.lang.reflect.Modifier;

public final class ReflectionFactory {
    private static final ReflectionFactory SOLE = new ReflectionFactory();
    // java.base exports jdk.internal.reflect to this module alone (the runtime's own option)
    private static final jdk.internal.reflect.ReflectionFactory JDK =
            jdk.internal.reflect.ReflectionFactory.getReflectionFactory();

    private ReflectionFactory() {
    }

    public static ReflectionFactory getReflectionFactory() {
        return SOLE;
    }

    /** A constructor that makes a `type` and runs only Object's constructor on it. */
    public Constructor<?> newConstructorForSerialization(Class<?> type,
                                                         Constructor<?> constructorToCall) {
        if (constructorToCall.getDeclaringClass() != Object.class) {
            throw new UnsupportedOperationException(
                    "this runtime's ReflectionFactory runs only Object's constructor");
        }
        if (type.isArray() || Modifier.isAbstract(type.getModifiers())) {   // interfaces too
            throw new UnsupportedOperationException("not a concrete class: " + type);
        }
        for (Class<?> c = type; c != Object.class; c = c.getSuperclass()) {
            if (c == null || c.getModule().isNamed()) {   // a primitive, or the JDK's
                throw new UnsupportedOperationException(
                        "this runtime's ReflectionFactory makes no JDK class: " + type);
            }
        }
        return JDK.newConstructorForSerialization(type, constructorToCall);
    }
}
