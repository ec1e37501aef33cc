"""Personal names written after a cue that introduces one: 이름/성함/받는 분/수령인/예금주 … and "my name is",
"name:", "recipient:", "account holder:" …, in Hangul or Latin letters.

A Korean name is a common surname and one or two syllables (a two-syllable surname, one or two more).
What follows it in the same word must be a particle, a copula or a title (김민수입니다, 박지영이에요,
홍길동으로, 윤소희씨고), and the first two syllables must not be one of the words that follow these
cues in ordinary requests (이름 변경, 예금주 정보, 받는 분 전화번호, 성함이 어떻게 …).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

Spans = Iterator[tuple[int, int]]


def _words(*lines: str) -> frozenset[str]:
    return frozenset(" ".join(lines).split())


_SURNAMES = frozenset(
    "김이박최정강조윤장임한오서신권황안송전홍유고문양손배백허남심노하곽성차주우구민류나진지엄채원천방공현함변염여추도소"
    "석선설마길연위표명반왕금"
)
_TWO_SYLLABLE_SURNAMES = frozenset({"남궁", "황보", "제갈", "선우", "독고", "서문", "사공"})
_NOT_NAMES = _words(
    "이름 성함 성명 정보 주소 전화 번호 연락 변경 정정 수정 확인 조회 등록 입력 기재 기입 표시 표기 공개 공란",
    "공백 명의 명칭 인증 일치 불일 오타 오류 정확 전체 전부 모두 모름 한글 한자 영문 영어 이상 이렇 이런 이거",
    "이게 이건 이것 이번 이제 이미 이전 이후 이메 이용 이유 이랑 장난 지금 진짜 조금 나중 나오 나와 마스 부재",
    "부분 부탁 사정 사용 사람 경비 경우 고객 고쳐 문의 문자 문제 방법 변동 본인 차이 다르 다른 어떻 어디 어떤",
    "여기 거기 제가 제대 도와 도움 소문 원래 현재 우리 우편 구매 주문 주민 민감 선택 설정 설명 남편 남자 여자",
    "가족 회사 상호 법인 사업 정상 안내 노출 유지 동일 상이 신청 신분 서명 서류 손님 배송 배달 허용 심사 하나",
    "성별 차량 차단 우선 구분 진행 지정 채팅 원하 방금 공동 현관 함께 추가 도착 소유 선물 설치 마지 연동 한번",
    "전달 전송 저장 정리 정해 다시 나머 나도 유리 오늘 내일 어제 주세 주시 주면 하고 해주 되어 되나 되는 돼요",
    "없어 없는 있어 있는 같아 같은 맞아 맞는 맞게 아니 안나 안돼 한국 중국 유학 고모 이모 조카 원장 선생 주인",
    "지인 남친 여친 남동 여동 배우 신랑 신부 연인 소장 지점 지사 공장 현장 공무 성과 성만 반만 반영 마음 위에",
    "여러 길어 짧아 나이 성인 전화 정말 진심",
)
# Syllables that do not occur (or hardly ever) in a Korean given name: verb and particle endings and loan-word
# syllables, so 이름이 길어서, 성으로만, 지워짐, 조카예요 are not read as names.
_NOT_IN_GIVEN_NAMES = frozenset(
    "으어워짐됨함음에러카셜스트크프르즈츠브드그느쓰뜨쯤께게네데레메베테페케줘봐요죠까따짜싸빠쪽뭐왜했됐겠었았였갔왔봤줬"
    "웠않없있같많좋싫듯니며면"
)
_PARTICLES_AFTER_VOWEL = (
    "가",
    "는",
    "를",
    "와",
    "랑",
    "로",
    "로요",
    "라고",
    "라는",
    "며",
    "야",
    "예요",
    "고",
    "고요",
    "구요",
)
_PARTICLES_AFTER_CONSONANT = (
    "이",
    "은",
    "을",
    "과",
    "이랑",
    "으로",
    "으로요",
    "이라고",
    "이라는",
    "이며",
    "이야",
    "이요",
)
_PARTICLES_AFTER_ANY = (
    "의", "도", "만", "께", "에게", "한테", "요", "에요", "이에요", "이예요", "입니다", "입니다만", "이고", "이고요",
    "이구요", "인데", "인데요", "이세요", "세요", "이십니다", "십니다", "이니까", "니까", "였어요", "이었어요",
)  # fmt: skip
_TITLES = ("", "님", "씨", "고객님", "고객")
_HANGUL_RUN = re.compile(r"[가-힣]+")

_LATIN_UPPER, _LATIN_LOWER = "A-ZÀ-ÖØ-Þ", "a-zß-öø-ÿ"
_LATIN_WORD = (
    rf"(?:[{_LATIN_UPPER}](?:['’][{_LATIN_UPPER}])?[{_LATIN_LOWER}]+(?:[{_LATIN_UPPER}][{_LATIN_LOWER}]+)?"
    rf"(?:-[{_LATIN_UPPER}]?[{_LATIN_LOWER}]+)*|[{_LATIN_UPPER}]{{2,}}(?:-[{_LATIN_UPPER}]{{2,}})?|[{_LATIN_UPPER}]\.)"
    rf"(?![{_LATIN_UPPER}{_LATIN_LOWER}0-9_])"
)
_LATIN_NAME = re.compile(rf"{_LATIN_WORD}(?: {_LATIN_WORD}){{0,3}}")
# Capitalised words that start a sentence or answer rather than a name ("Name: Not given", "my name is Please").
_NOT_LATIN_NAMES = _words(
    "i is and or but not the a an my your our his her their this that please thanks thank hi hello hey can",
    "could would why what when how where who it on in at to from for with mine here there still wrong correct",
    "same different missing blank empty required changed ok okay yes no none unknown also just now tbd na n/a",
)

_KO_CUE = re.compile(
    r"(?:성함|성명|이름|받는\s?(?:분|사람)|보내는\s?(?:분|사람)|수령인|수령자|수취인|예금주|입금자|주문자|명의자|고객명)"
    r"명?(?:은|는|이|가|을|를|으로|로)?\s*(?:[:：=]\s*)?['\"“‘「『(]?"
)
_EN_CUE = re.compile(
    r"(?:\b(?P<before>[A-Za-z]+)\s+)?(?<![A-Za-z])name(?:\s+on\s+(?:the|my|his|her)\s+"
    r"(?:card|account|order|parcel|package|label|box|invoice|receipt|delivery))?\s*(?:(?:is|was)\s|[:=-])"
    r"|\b(?:recipient|payee|account\s*holder|card\s*holder)\s*(?:(?:is|was)\s|:)"
    r"|\bunder\s+the\s+name(?:\s+of)?\s",
    re.IGNORECASE,
)
# "Product name: Galaxy Buds" names a thing, not a person.
_THING_NAMES = _words(
    "product item file user store shop brand model plan device domain network wifi company business screen",
    "display event street app folder document host band song game nick",
)


def find_names(text: str) -> Spans:
    for cue in _KO_CUE.finditer(text):
        yield from _name_at(text, cue.end())
    for cue in _EN_CUE.finditer(text):
        if (cue.group("before") or "").lower() not in _THING_NAMES:
            yield from _name_at(text, _skip_spaces(text, cue.end()))


def _skip_spaces(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\"'“‘":
        position += 1
    return position


def _name_at(text: str, position: int) -> Spans:
    if (hangul := _HANGUL_RUN.match(text, position)) is not None:
        if (length := korean_name_length(hangul.group())) is not None:
            yield position, position + length
    elif (latin := _LATIN_NAME.match(text, position)) is not None:
        words = latin.group().split(" ")
        kept = words[: next((i for i, word in enumerate(words) if word.lower() in _NOT_LATIN_NAMES), len(words))]
        if kept:
            yield position, position + len(" ".join(kept))


def korean_name_length(word: str) -> int | None:
    """How many leading syllables of a Hangul word are a name, the rest being what may follow a name. When two
    readings fit (김정은 or 김정|은), the longer name wins: three syllables is the usual length, and reading one
    syllable too many redacts a particle rather than leaving part of a name."""
    lengths = [
        length
        for length in (4, 3, 2)
        if len(word) >= length and _looks_like_name(word[:length]) and _may_follow_name(word[:length], word[length:])
    ]
    return lengths[0] if lengths else None


def _looks_like_name(name: str) -> bool:
    if name[:2] in _NOT_NAMES:
        return False
    surname = 2 if name[:2] in _TWO_SYLLABLE_SURNAMES and len(name) in (3, 4) else 1
    if surname == 1 and (name[0] not in _SURNAMES or len(name) not in (2, 3)):
        return False
    return _NOT_IN_GIVEN_NAMES.isdisjoint(name[surname:])


def _may_follow_name(name: str, rest: str) -> bool:
    for title in _TITLES:
        if not rest.startswith(title):
            continue
        particle = rest[len(title) :]
        before = title[-1] if title else name[-1]
        has_final = (ord(before) - 0xAC00) % 28 != 0
        final_is_l = (ord(before) - 0xAC00) % 28 == 8
        if (
            particle == ""
            or particle in _PARTICLES_AFTER_ANY
            or (particle in _PARTICLES_AFTER_CONSONANT and has_final)
            or (particle in _PARTICLES_AFTER_VOWEL and (not has_final or (final_is_l and particle.startswith("로"))))
        ):
            return True
    return False
