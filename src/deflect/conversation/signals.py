"""Conversation signals for the handoff policy: does the customer sound frustrated, and do they ask for a person?

Both are plain, precompiled regular expressions over one message (Korean and English), fast enough to run on every
turn. Frustration is a weighted sum of cues (profanity, repeated contacts, waiting, threats, '???', ALL CAPS, ㅡㅡ,
sarcasm …) minus calming cues (thanks, excitement, polite requests), clipped to 0..1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Language = Literal["ko", "en"]

# Weights and the default threshold were chosen on data/benchmarks/frustration/dev.csv only: a sweep over 0.05..0.95
# in steps of 0.01 gave the best F1 (with precision 1.0) for every threshold from 0.26 to 0.35, and we kept the highest.
# The held-out test set, data/benchmarks/frustration/messages.csv, played no part in choosing them.
DEFAULT_THRESHOLD = 0.35


@dataclass(frozen=True)
class FrustrationSignal:
    score: float  # 0..1
    frustrated: bool  # score >= threshold
    cues: tuple[str, ...]  # human-readable names of the frustration cues that fired (calming ones are left out)


@dataclass(frozen=True)
class PersonRequest:
    phrase: str  # the matched text, e.g. "상담원 연결"


@dataclass(frozen=True)
class Cue:
    name: str
    weight: float  # negative for calming cues
    pattern: re.Pattern[str]
    language: Language | None = None  # runs only on messages written (partly) in that script; None: on every message


def _cue(name: str, weight: float, pattern: str, language: Language | None = None) -> Cue:
    """Patterns are written in lower case and run on the lower-cased message (cheaper than re.IGNORECASE)."""
    return Cue(name, weight, re.compile(pattern), language)


# Korean is agglutinative and spacing is loose in chat, so stems allow optional spaces (짜증\s*나) and leave the
# ending open. (?<![가-힣]) stands in for a word boundary before a Korean word.
_SARCASTIC_CHAM = r"참\s*(?:[.!…~ㅋ]|$)"
_KOREAN_CUES = (
    _cue(
        "profanity",
        0.6,
        r"짜증|열\s*(?:받|뻗)|빡\s*(?:치|쳐|침|쳤|돌|세)|개\s*(?:빡|짜증|열받|같|어이|판|소리|무시)|ㅅㅂ|ㅆㅂ|시\s*발|씨\s*[발바빨]"
        r"|ㅂㅅ|병\s*신|존\s*나|졸\s*라|ㅈ\s*같|좆|미친\s*(?:거|것|놈|넘|회사|앱|서비스|소리)|미치겠|돌아\s*버리|쓰레기"
        r"|이\s*따위|이\s*딴|엿\s*같|꺼져|닥쳐",
        "ko",
    ),
    _cue(
        "anger",
        0.5,
        r"최악|어이\s*(?:가\s*)?없|어처구니|황당|한심|엉망|무책임|실망|답답|화\s*가\s*(?:나|납|났)|(?<![가-힣])화\s*(?:나|납|났)"
        r"|사기(?:꾼|네|냐|야|잖|예요|치)|어쩌라는|무시\s*(?:하|당)|웃기(?:네|시|지\s*마)|기가\s*막|말이\s*(?:돼|되냐|됩니까|됨|안\s*되)"
        r"|말로만|너무\s*하(?:시|네|다|잖)",
        "ko",
    ),
    _cue("'장난하냐'", 0.5, r"장난\s*(?:하|해|치|쳐|합|까)", "ko"),
    _cue(
        "repeated contact",
        0.5,
        r"(?:세|네|다섯|여섯|열|몇|[3-9]|\d{2,})\s*번\s*째|몇\s*번(?:을|이나|씩)?\s*(?:말|얘기|문의|연락|물어|불러|해야)"
        r"|(?:열|수십|백)\s*번|(?:어제|그제|그저께|저번에|지난번에|아까|전에)도|똑같은\s*(?:답|말|질문|문제|소리)"
        r"|같은\s*(?:말|답변|소리)만|(?:했|말했|드렸|얘기했|물어봤)잖아|또\s*(?:이러|이래|이런|같은|똑같|물어)",
        "ko",
    ),
    _cue("'또/자꾸'", 0.2, r"(?<![가-힣])또(?![가-힣])|자꾸", "ko"),
    _cue(
        "waiting",
        0.45,
        r"(?:일주일|한\s*달|두\s*달|며칠|사흘|나흘|이틀|열흘|몇\s*(?:시간|일|주|달)|\d+\s*(?:일|주|주일|시간|분|달|개월))\s*"
        r"(?:째|이\s*지났|나\s*지났|지났|넘게)|아직도|한\s*세월|언제까지|하루\s*종일",
        "ko",
    ),
    _cue(
        "no response",
        0.45,
        r"아무도|연락(?:이|도)?\s*(?:없|안\s*[와오])|답(?:변|장)(?:이|도)?\s*(?:없|안\s*[와오])|전화(?:를|는|도)?\s*(?:왜\s*)?안\s*받"
        r"|읽기는\s*하|읽지도|알아\s*(?:듣|들)",
        "ko",
    ),
    _cue(
        "threat",
        0.7,
        r"소비자\s*(?:원|보호원|고발)|소보원|금감원|금융\s*감독원|공정위|민원|고소|고발|법적\s*(?:조치|대응)|변호사"
        r"|신고\s*(?:할|하겠|합니다|해\s*버|넣)|이의\s*제기\s*(?:할|하겠|합니다)"
        r"|(?:리뷰|후기)(?:에|로)?\s*(?:다\s*)?(?:쓸|쓰겠|남길|남기겠|올릴|올리겠)|탈퇴\s*(?:할|하려|하겠|합니다)"
        r"|다시는\s*(?:안|이용)|더는\s*(?:이용|안)|(?:이용|거래)\s*(?:안|못)\s*하겠",
        "ko",
    ),
    _cue(
        "'도대체'",
        0.4,
        r"도대체|대체\s*(?:왜|언제|뭐|무슨|어떻게|누가|누구|어디|얼마|일을|이게|몇)|이게\s*(?:뭡니까|뭐예요|뭐냐|뭐야|서비스)|뭡니까",
        "ko",
    ),
    _cue(
        "demand",
        0.35,
        r"(?:냐|라|다)\s*(?:고|구)(?:요)?\s*(?:[?!]|$)|냐(?:\s*[?!.]|\s*$)|건데\s*(?:요\s*)?\?|거임|제대로|빨리\s*좀|좀\s*빨리"
        r"|(?:왜|어떻게)\s*(?:자꾸|맘대로|마음대로|아무도|이렇게|이래|이러)|안\s*[되돼]잖아|맘대로|마음대로|(?<![가-힣])좀\s*(?:하세요|해라|해)(?![가-힣])",
        "ko",
    ),
    _cue("'아니' opener", 0.3, r"(?:^|[.!?]\s*)아니\s", "ko"),
    _cue("ㅡㅡ", 0.45, r"ㅡ\s*ㅡ|ㅡ_ㅡ|;;|(?<![가-힣])하+\s*\.{2,}|하아+|에휴|아오", "ko"),
    # "고맙네요 참" (thanks a lot, really) ends the message or sentence; "고맙습니다 참 친절하시네요" is sincere.
    _cue(
        "sarcasm",
        0.5,
        rf"(?:고맙|고마|감사)\S*\s*{_SARCASTIC_CHAM}|참\s*(?:대단|훌륭|고맙)|참\s*잘\s*(?:하|들)",
        "ko",
    ),
    _cue("calm: thanks", -0.35, rf"(?:감사|고마|고맙)(?!\S*\s*{_SARCASTIC_CHAM})|수고하|덕분에", "ko"),
    _cue(
        "calm: excitement",
        -0.4,
        r"대박|최고|좋아요|좋네요|좋다|감동|빠르네|빠르다|행복|신나|기대돼|개이득|ㅎㅎ|\^\^",
        "ko",
    ),
    _cue(
        "calm: polite request",
        -0.2,
        r"혹시|죄송|부탁\s*(?:드|합)|가능할까요|가능한가요|될까요|나요\s*\?|주실\s*수|궁금|알려\s*주세요|싶어요|싶습니다",
        "ko",
    ),
)


def _words(*alternatives: str) -> str:
    """One leading word boundary for all alternatives: Python's re is several times faster than with one each."""
    return r"\b(?:" + "|".join(alternatives) + ")"


_ENGLISH_CUES = (
    _cue(
        "profanity",
        0.6,
        _words(
            r"wtf|wth|ffs|fuck\w*|f\*+k\w*|shit\w*|bullshit|crap\w*|damn\w*|goddamn|hell|piss(?:ed)?|screw\s+(?:you|this)"
            r"|sucks?|idiot\w*|stupid|dumb|moron\w*|clowns?"
        )
        + r"\b",
        "en",
    ),
    _cue(
        "anger",
        0.55,
        _words(
            r"ridiculous|useless|worst|pathetic|unacceptable|garbage|trash|rubbish|joke|scam\w*|incompetent|absurd|insane"
            r"|unbelievable|outrageous|disgrace\w*|shameful|terrible|horrible|awful|appalling|disgusting|laughable"
            r"|waste\s+of\s+(?:my\s+)?(?:time|money)|runaround|fed\s+up|sick\s+of|sick\s+and\s+tired|furious|livid"
            r"|frustrat\w+|annoy\w+|angry|so\s+done|kidding\s+me|are\s+you\s+serious|talking\s+to\s+a\s+(?:brick\s+)?wall"
            r"|ugh+|smh|you\s+people|disappoint\w*|taking\s+(?:forever|ages)|expected\s+better|enough\s+is\s+enough"
            r"|last\s+straw|so-called|canned\s+(?:responses?|replies|answers?)|fix\s+(?:this|it)\s*[.!]"
        ),
        "en",
    ),
    _cue(
        "repeated contact",
        0.5,
        _words(
            r"(?:third|3rd|fourth|4th|fifth|5th|\d+th|umpteenth|hundredth|nth)\s+(?:time|email|message|call|request|attempt)",
            r"again\s+and\s+again|over\s+and\s+over|how\s+many\s+(?:more\s+)?times|(?:keep|keeps|kept)\s+\w+ing",
            r"(?:already|i've|i\s+have)\s+(?:already\s+)?(?:told|explained|sent|asked|said)",
            r"(?:ten|\d+|a\s+dozen|several|multiple|many|three|four|five)\s+times\b|every\s+(?:single\s+)?time",
            r"same\s+as\s+(?:the\s+)?last|not\s+asking\s+again|yet\s+again|once\s+again",
            r"(?:contacted|emailed|called|messaged|wrote\s+to)\s+you\s+(?:yesterday|already|before|last|twice|three)",
        ),
        "en",
    ),
    _cue("'again'", 0.2, r"\bagain\b", "en"),
    _cue(
        "waiting",
        0.45,
        _words(
            r"still\s+(?:haven'?t|hasn'?t|have\s+not|has\s+not|not|no|nothing|waiting|don'?t|doesn'?t|can'?t|isn'?t)\b",
            r"day\s+\d+\b",
            r"(?:for|over|more\s+than)\s+(?:a|an|one|two|three|four|five|six|\d+|several|many)\s+"
            r"(?:weeks?|days?|hours?|months?|minutes?)\b",
            r"(?:\d+|two|three|four|five|six|several)\s+(?:weeks?|days?|months?)\s+ago\b",
            r"on\s+hold\b|that'?s\s+what\s+you\s+said",
        ),
        "en",
    ),
    _cue(
        "no response",
        0.45,
        _words(
            r"no\s+(?:reply|response|answer|update)\b|nobody\b|no\s+one\b|is\s+anyone\b",
            r"anyone\s+(?:even\s+)?(?:there|working|reading|listening|home)\b|hello\s*\?",
            r"(?:won'?t|don'?t|never)\s+(?:answer|reply|respond|get\s+back)",
            r"can\s+someone\s+(?:actually\s+|please\s+)?read\b|read\s+what\s+i\s+wr",
        ),
        "en",
    ),
    _cue(
        "threat",
        0.7,
        _words(
            r"(?:file|filing|do|doing|issue|open|opening|initiate)\s+a\s+chargeback|chargeback\s+with",
            r"disput(?:e|ing)\s+(?:the|this)\s+(?:charge|transaction)(?!\s+process)",
            r"report(?:ing)?\s+(?:you|this|your\s+company)\b|better\s+business\s+bureau|bbb\b|lawyer|attorney",
            r"su(?:e|ing)\s+you|legal\s+action|small\s+claims|(?:1|one)[-\s]star",
            r"(?:bad|negative|terrible)\s+review|review\s+everywhere",
            r"(?:leaving|will\s+leave|i'?ll\s+leave|going\s+to\s+leave)\s+(?:a\s+)?(?:\S+\s+)?review",
            r"(?:today|immediately|now)\s+or\b|or\s+else\b",
        ),
        "en",
    ),
    _cue(
        "quitting",
        0.25,
        _words(
            r"(?:close|cancel|delete)\s+my\s+(?:account|order|subscription)\b|take\s+my\s+business\s+elsewhere",
            r"done\s+with\s+(?:you|this)|never\s+(?:again|ordering|shopping|buying)",
        ),
        "en",
    ),
    _cue(
        "sarcasm",
        0.5,
        _words(
            r"thanks\s+for\s+nothing|love\s+that\s+for\s+me|oh\s+(?:great|wonderful|perfect|fantastic|joy|brilliant|nice)\b",
            r"truly\s+impressive|impressive\s+work|this\s+is\s+how\s+you\s+treat|what\s+a\s+joke",
        )
        + r"|^(?:great|wonderful|perfect|fantastic|brilliant)[,.!]+\s+(?:another|yet|so\s+now|just\s+what)"
        # scare quotes around what support claimed: the refund was "processed"
        + r"|\"(?:processed|resolved|looking\s+into\s+it|escalated|shipped|delivered|on\s+its\s+way|soon"
        + r"|working\s+on\s+it)\"",
        "en",
    ),
    _cue(
        "rhetorical question",
        0.4,
        _words(
            r"are\s+you\s+kidding|seriously\s*[?!]|do\s+you\s+even\b|can'?t\s+believe",
            # not every "why" question: "why was my card declined?" is usually calm
            r"why\s+(?:the\s+hell|on\s+earth|is\s+(?:it|this)\s+so|(?:is|does|do)\s+(?:nobody|no\s+one)"
            r"|(?:won'?t|can'?t|don'?t|didn'?t)\s+you)",
        ),
        "en",
    ),
    _cue(
        "calm: thanks",
        -0.35,
        _words(r"thanks?\b(?!\s+for\s+nothing)|thank\s+you\b|appreciate|cheers\b|thx\b|ty\b"),
        "en",
    ),
    _cue(
        "calm: excitement",
        -0.4,
        _words(
            r"(?:amazing|awesome|lovely|adorable|so\s+happy|excited|can'?t\s+wait|best|wow|omg|yay|woo+|all\s+(?:good|sorted"
            r"|set)|no\s+worries|no\s+rush|no\s+problem|that\s+worked|works\s+(?:perfectly|great))\b",
            r"love\b(?!\s+that\s+for\s+me)",
        )
        + r"|:\)|😊|🙂|❤|😍|🎉",
        "en",
    ),
    _cue(
        "calm: polite request",
        -0.2,
        _words(
            r"(?:could\s+you|would\s+you|could\s+i|can\s+i|can\s+you|is\s+it\s+possible|if\s+possible|sorry|i'?d\s+like"
            r"|please\s+let\s+me\s+know|any\s+idea)\b"
        ),
        "en",
    ),
)

# Acronyms and cheerful shouting are not anger; anything else of three or more capitals in a row is.
_CAPS_EXCEPTIONS = (
    "ASAP|PDF|USPS|UPS|DHL|FEDEX|API|KYC|PIN|OTP|SMS|ATM|USD|EUR|KRW|GBP|IBAN|SWIFT|BBB|FAQ|URL|APP|IOS|CVC|CVV|VAT"
    "|WOW|AMAZING|AWESOME|LOL|OMG|LOVE|YAY|BEST|THANK|THANKS|YES|OK|OKAY|CEO|USA|UK|EU|ID|QR|NFC"
)
_SHARED_CUES = (
    _cue("'??'", 0.4, r"[?？]{2,}"),
    _cue("'?!'", 0.4, r"\?!|!\?"),
    _cue("'!!!'", 0.2, r"!{3,}"),  # alone, as often excitement or polite urgency ("help!!!") as anger
    _cue("-_-", 0.45, r"-_-"),
)
_CUES = _KOREAN_CUES + _ENGLISH_CUES + _SHARED_CUES
_ALL_CAPS = Cue("ALL CAPS", 0.4, re.compile(rf"\b(?!(?:{_CAPS_EXCEPTIONS})\b)[A-Z]{{3,}}\b"), "en")
_SCRIPTS: dict[Language, re.Pattern[str]] = {"ko": re.compile(r"[ㄱ-ㅣ가-힣]"), "en": re.compile(r"[a-z]")}


class FrustrationDetector:
    """Scores how frustrated one customer message sounds."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold

    def detect(self, text: str, locale: str | None = None) -> FrustrationSignal:
        """Score one message. Korean and English cues run on whichever scripts the message contains (chat mixes them);
        `locale` ("ko", "en-US" …) only decides whether capitals can be shouting: in Korean they are brand names (KB,
        SKT). Without a locale a message with Hangul counts as Korean."""
        lowered = text.lower()
        scripts = {language for language, script in _SCRIPTS.items() if script.search(lowered)}
        fired = [
            cue for cue in _CUES if (cue.language is None or cue.language in scripts) and cue.pattern.search(lowered)
        ]
        english = locale.lower().startswith("en") if locale else "ko" not in scripts
        if english and _ALL_CAPS.pattern.search(text):
            fired.append(_ALL_CAPS)
        # Rounded before comparing so that 0.6 - 0.3 counts as 0.3, not 0.29999999999999993.
        score = round(min(1.0, max(0.0, sum(cue.weight for cue in fired))), 3)
        cues = tuple(cue.name for cue in fired if cue.weight > 0)
        return FrustrationSignal(score, score >= self.threshold, cues)


_KOREAN_PERSON = re.compile(
    r"(?:상담\s*(?:원|사|직원)|고객\s*센터\s*직원|(?:실제|진짜|살아\s*있는)?\s*사람|직원|담당자|매니저)"
    r"(?:\s*님|\s*분)?(?:이?랑|하고|과|와|한테|에게|께|을|를)?(?:\s*(?:좀|직접|바로|지금|당장|빨리|제발))*\s*"
    r"(?:연결|바꿔|통화|얘기|이야기|대화|상담|불러|채팅)"
    # Not requests: "상담원이랑 얘기하고 있는데", "통화했는데" (talking or talked to one already),
    # "상담원 연결은 몇 시까지" (asking about it).
    r"(?![은는])(?!\s*(?:하|해)\s*고\s*있|\s*중|\s*(?:했|하였|됐|되었))"
)
_KOREAN_PERSON_ALONE = re.compile(r"^\s*(?:상담원|상담사|사람)\s*(?:이요|요|좀)?\s*[.!?~]*\s*$")
_SUPPORT_PERSON = (
    r"(?:a|an|the|your|some|one\s+of\s+your)?\s*(?:real|actual|live|human|proper)?\s*"
    r"(?:customer\s+(?:service|support|care)(?:\s+(?:rep|representative|agent|team))?|support\s+(?:agent|team|staff)"
    r"|human|person|people|agent|rep|representative|operator|staff|someone|somebody|employee|manager|supervisor)\b"
)
_ENGLISH_PERSON = re.compile(
    rf"(?<!am i )(?<!i'm )(?<!i am )\b(?:talk|speak|chat)\s+(?:with|to)\s+{_SUPPORT_PERSON}"
    rf"|\b(?:connect|transfer|put)\s+me\s+(?:to|with|through\s+to)\s+{_SUPPORT_PERSON}"
    r"|\b(?:get|give)\s+(?:me\s+)?(?:a|an)\s+(?:real\s+|live\s+|actual\s+)?(?:human|person|agent|representative)\b"
    r"|\bescalate\s+(?:this|it|me|my\s+\w+)?\s*to\s+(?:a|an|your)?\s*(?:human|person|manager|supervisor|agent)\b",
    re.I,
)
_ENGLISH_PERSON_BARE = re.compile(
    r"\b(?:real|actual|live)\s+(?:person|human|agent|rep)\b|\bhuman\s+(?:agent|being|support|please)\b"
    r"|\b(?:agent|human|representative|rep|operator|person)\s*,?\s*(?:please|pls|plz|now)\b"
    r"|^\s*(?:agent|human|representative|operator)\s*[.!?]*\s*$|\bcustomer\s+(?:service|support|care)\s+"
    r"(?:rep|representative|agent)s?\b",
    re.I,
)
# "Is your agent a bot?", "Are you a real person?": questions about who is answering, not requests for a person.
_QUESTION_ABOUT_AGENT = re.compile(
    r"\b(?:is|are|am)\s+(?:i\s+(?:talking|chatting|speaking)\s+(?:to|with)|you|your\s+\w+|this|it|the\s+\w+)\b[^?]*"
    r"\b(?:bot|robot|ai|human|real|person|automated)\b[^?]*\?",
    re.I,
)
_NOT_SUPPORT_AGENTS = re.compile(r"\b(?:delivery|travel|shipping|courier|insurance|estate|booking)\s+$", re.I)


def asks_for_person(text: str) -> PersonRequest | None:
    """An explicit request to talk to a human: '상담원 연결해 주세요', '사람이랑 얘기하고 싶어요', 'talk to a human',
    'real person', 'agent please', 'customer service representative'… but NOT 'is your agent a bot?' style questions
    about agents, nor 'delivery agent' / '배송기사'."""
    for pattern in (_KOREAN_PERSON, _KOREAN_PERSON_ALONE, _ENGLISH_PERSON):
        match = pattern.search(text)
        if match:
            return PersonRequest(match.group().strip())
    if _QUESTION_ABOUT_AGENT.search(text):
        return None
    for match in _ENGLISH_PERSON_BARE.finditer(text):
        if not _NOT_SUPPORT_AGENTS.search(text[: match.start()]):
            return PersonRequest(match.group().strip())
    return None
