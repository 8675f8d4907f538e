class TwoDigitConverter:
    """Months and days in URLs are always two digits: /2021/10/01/."""

    regex = "[0-9]{2}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return f"{int(value):02d}"


class YearConverter(TwoDigitConverter):
    regex = "[0-9]{4}"

    def to_url(self, value):
        return f"{int(value):04d}"
