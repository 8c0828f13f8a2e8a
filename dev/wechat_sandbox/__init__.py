"""A local stand-in for WeChat's servers (api.weixin.qq.com and api.mch.weixin.qq.com v3).

It speaks only WeChat's wire protocol and imports nothing of micromall, so it can stand in for WeChat for any
client: the project's real clients talk to it over HTTP in development, tests, demos and benchmarks.
"""
from wechat_sandbox.app import create_sandbox_app
from wechat_sandbox.settings import SandboxSettings

__all__ = ["create_sandbox_app", "SandboxSettings"]
