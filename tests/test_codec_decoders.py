"""The codec's compiled dataclass decoders (builder.codec._decoder): the same objects as
the constructor makes, whatever the fields are called or how they are declared, and a
DecodeError for every value that does not fit a field's annotation."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field
from datetime import date
from typing import Any

import pytest

from builder.codec import Codec, DecodeError


@dataclass
class Odd:
    """Field names that the decoder's own source uses for other things."""

    data: str
    obj: int
    fields: list[str]
    cls: tuple[str, ...] = ()
    new: date | None = None
    f0: Any = None
    NAME: dict[str, int] = field(default_factory=dict)
    DecodeError: bool = False


@dataclass(frozen=True)
class FrozenOdd:
    data: str
    obj: list[Odd] = field(default_factory=list)
    fields: tuple[Odd, ...] = ()
    f1: Odd | None = None


@dataclass
class Declared:
    first: str
    later: int = field(default=0, init=False)
    _: KW_ONLY
    named: str = "n"
    others: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Empty:
    pass


def _codec() -> Codec:
    codec = Codec()
    for cls in (Odd, FrozenOdd, Declared, Empty):
        codec.register_dataclass(cls)
    return codec


def _odd(n: int) -> Odd:
    return Odd(f"d{n}", n, ["a", "b"], ("c",), date(2020, 1, n + 1), {"k": (1, 2)}, {"x": n},
               bool(n % 2))


def test_objects_equal_what_their_constructors_make_field_for_field():
    codec = _codec()
    declared = Declared("x", named="m", others=[(1, "y")])
    declared.later = 7
    values = [_odd(1), FrozenOdd("f", [_odd(2), _odd(3)], (_odd(4),), _odd(5)),
              FrozenOdd("g"), declared, Empty()]
    back = codec.decode(codec.encode(values))
    assert back == values
    for old, new in zip(values, back, strict=True):
        assert type(new) is type(old)
        assert list(vars(new).items()) == list(vars(old).items())  # order too
    assert type(back[0].cls) is tuple and type(back[1].fields) is tuple
    assert back[0].f0 == {"k": (1, 2)}  # an Any field: tags decoded
    assert back[3].later == 7  # init=False: set after construction


@pytest.mark.parametrize("data", [
    b'{"!Odd":["d",1,["a",2],[],null,null,{},false]}',  # list[str] holding an int
    b'{"!Odd":["d",1,"ab",[],null,null,{},false]}',  # list[str] that is a str
    b'{"!Odd":["d",1,[],[1],null,null,{},false]}',  # tuple[str, ...] holding an int
    b'{"!Odd":["d",1,[],[],"2020-01-01",null,{},false]}',  # date | None given a str
    b'{"!Odd":["d",1,[],[],{"!tuple":[]},null,{},false]}',  # ... or a tuple
    b'{"!Odd":["d",1,[],[],null,{"!nope":1},{},false]}',  # an unknown tag in Any
    b'{"!Odd":["d",1,[],[],null,null,{"x":"1"},false]}',  # dict[str, int] of a str
    b'{"!Odd":["d",true,[],[],null,null,{},false]}',  # an int field given a bool
    b'{"!Odd":["d",1,[],[],null,null,{},0]}',  # a bool field given an int
    b'{"!Odd":["d",1,[],[],null,null,{}]}',  # a field short
    b'{"!Odd":["d",1,[],[],null,null,{},false,1]}',  # a field too many
    b'{"!Odd":{"data":"d"}}',
    b'{"!FrozenOdd":["f",{"a":1},[],null]}',  # list[Odd] that is an object
    b'{"!FrozenOdd":["f",[["d"]],[],null]}',  # an Odd of one field
    b'{"!FrozenOdd":["f",[],[["d",1,[],[],null,null,{},2]],null]}',
    b'{"!FrozenOdd":["f",[],[],["d",1,[],[],null,null,{},"no"]]}',
    b'{"!FrozenOdd":["f",[],[],{"!Odd":["d",1,[],[],null,null,{},false]}]}',  # tagged
    b'{"!Declared":["x",0,"m",[[1,2]]]}',  # tuple[int, str] holding an int
    b'{"!Declared":["x","0","m",[]]}',
    b'{"!Empty":[1]}',
])
def test_a_value_that_does_not_fit_its_field_is_a_decode_error(data):
    with pytest.raises(DecodeError):
        _codec().decode(data)


def test_the_same_arrays_decode_to_new_objects_each_time():
    codec = _codec()
    data = codec.encode(FrozenOdd("f", [_odd(1)], (), None))
    first, second = codec.decode(data), codec.decode(data)
    assert first == second and first is not second and first.obj[0] is not second.obj[0]
    assert codec.decode(b'{"!FrozenOdd":["f",[],[],null]}').obj == []
