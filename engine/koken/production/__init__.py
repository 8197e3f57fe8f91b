"""Action-plan progress (生産プロセスの目標進捗): a company's submission of energy use, output and CO2 by
fiscal year, its intensity and CO2 against the commit and challenge targets, and the industry roll-up.

Modules, top to bottom: ``export`` (Markdown, XLSX, JSON, the submission template) → ``rollup`` (many
submissions → the report's tables) → ``metrics`` (one company's figures) → ``submission`` (reading YAML,
CSV and XLSX submissions) → ``tables`` (the sourced carrier table and the plan's targets).
"""
